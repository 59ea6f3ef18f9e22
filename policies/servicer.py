"""Keep the analyzer's cost per resource proportional to the policies that apply to it.

pulumi-policy 1.21's `_PolicyAnalyzerServicer` loops over every policy for every resource
and, inside that loop, re-decodes the resource's properties (protobuf -> dict ->
deserialized -> unknown-checking proxy) and rebuilds its options; `AnalyzeStack` rebuilds
the whole resource list once per stack policy. Three changes, transparent to the policies
and to the protocol:

- `TypeDispatchingServicer` answers `Analyze` with a servicer holding only the policies
  whose rules apply to the request's type (the others would return without a word), and
  forwards `Configure`/`ConfigureStack` to every such servicer, so enforcement levels and
  config behave exactly as in the SDK's servicer;
- `AnalyzeStack` builds the stack's `PolicyResource` list once for all stack policies;
- the decoders are memoized, `MessageToDict` on the message's bytes and the later steps on
  the identity of their input (held, so an id is never reused while cached), in caches
  shared by the server's threads: `AnalyzeStack` reuses what the `Analyze` calls decoded.
  Policies here never mutate props, so sharing them is safe. `Analyze` of a type that no
  resource policy reads still decodes it when the pack has stack policies: the stack request
  comes after the program's last registration, and then finds that work done.

Measured on the prod preview's 501 resources, server side, CPU time (89 policies): the SDK
servicer (already with memoized decoders) 2.6k resources/s for Analyze and 2.1k for
AnalyzeStack; this servicer 29k and 10k. tests/policies/test_servicer.py shows both give the
same diagnostics.

`install()` (called from `policies/__main__.py` before `PolicyPack(...)`) puts this in place
inside the analyzer process only; `PolicyPack` then serves through it.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pulumi.runtime import proto
from pulumi_policy import policy as sdk

from reliability_stack.policies.registry import all_rules

# Every resource of one AnalyzeStack request of a large stack (the 50-service benchmark: 17k);
# about 20 KB of decoded state a resource.
_CAPACITY = 32_768
_SdkServicer = sdk._PolicyAnalyzerServicer  # noqa: SLF001 - the SDK exposes no other hook


class TypeDispatchingServicer(_SdkServicer):
    """The SDK's analyzer servicer, with `Analyze` routed to the policies of the resource's type."""

    def __init__(self, name: str, version: str, policies: list[sdk.Policy], enforcement_level: Any,
                 initial_config: Any = None, *rest: Any) -> None:
        super().__init__(name, version, policies, enforcement_level, initial_config, *rest)
        self._init = (name, version, enforcement_level, initial_config, *rest)
        self._resource_policies = [p for p in policies if isinstance(p, sdk.ResourceValidationPolicy)]
        self._stack_policies = any(isinstance(p, sdk.StackValidationPolicy) for p in policies)
        rules = {r.id: r for r in all_rules()}
        # A policy that is not one of our rules (none today) applies to every type.
        self._applies: dict[str, Callable[[str], bool]] = {
            p.name: (rules[p.name].applies_to if p.name in rules else (lambda _type: True))
            for p in self._resource_policies
        }
        self._by_type: dict[str, _SdkServicer | None] = {}
        self._configure: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._options_memo = _IdentityMemo(super()._get_resource_options)
        self._provider_memo = _IdentityMemo(super()._get_provider_resource)

    def _for_type(self, resource_type: str) -> _SdkServicer | None:
        try:
            return self._by_type[resource_type]
        except KeyError:
            pass
        with self._lock:
            if resource_type not in self._by_type:
                chosen: list[sdk.Policy] = [p for p in self._resource_policies if self._applies[p.name](resource_type)]
                servicer = None
                if chosen:
                    name, version, level, initial, *rest = self._init
                    servicer = _SdkServicer(name, version, chosen, level, initial, *rest)
                    for method, request in self._configure:
                        getattr(servicer, method)(request, None)
                self._by_type[resource_type] = servicer
            return self._by_type[resource_type]

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        with self._lock:
            self._configure = [(m, r) for m, r in self._configure if m != "Configure"] + [("Configure", request)]
            for servicer in filter(None, self._by_type.values()):
                servicer.Configure(request, context)
        return super().Configure(request, context)

    def ConfigureStack(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._lock:
            self._configure = [(m, r) for m, r in self._configure if m != "ConfigureStack"] + [
                ("ConfigureStack", request)]
            for servicer in filter(None, self._by_type.values()):
                servicer.ConfigureStack(request, context)
        return super().ConfigureStack(request, context)

    # AnalyzeStack rebuilds every resource's options once per stack policy: decode once.
    def _get_resource_options(self, request: Any) -> Any:
        return self._options_memo(request)

    def _get_provider_resource(self, request: Any) -> Any:
        return self._provider_memo(request)

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802
        servicer = self._for_type(request.type)
        if servicer is None:
            if self._stack_policies:
                # No resource policy reads it, the stack policies will: the engine sends
                # `AnalyzeStack` only after the last registration, so decoding now (into the
                # shared memos) takes the work off the end of the preview.
                _decoded_props(request.properties)
            return proto.AnalyzeResponse()
        return servicer.Analyze(request, context)

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802
        """The SDK's AnalyzeStack with the resource list built once and shared by the stack policies.

        The SDK rebuilds every `PolicyResource` (props, options, parent and dependency links) once
        per stack policy; the policies here only read them, so one list serves them all. Levels,
        config, messages, the advisory for unknowns and not-applicable answers are the SDK's.
        """
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        active = []
        for policy in self._PolicyAnalyzerServicer__policies:  # type: ignore[attr-defined]
            level = self._get_enforcement_level(policy)
            if isinstance(policy, sdk.StackValidationPolicy) and level != sdk.EnforcementLevel.DISABLED:
                active.append((policy, sdk.EnforcementLevel.MANDATORY
                               if level == sdk.EnforcementLevel.REMEDIATE else level))
        if not active:
            return response
        resources = self._stack_resources(request)
        pack = f"{self._PolicyAnalyzerServicer__policy_pack_name}@v{self._PolicyAnalyzerServicer__policy_pack_version}"  # type: ignore[attr-defined]
        for policy, level in active:
            report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
            args = sdk.StackValidationArgs(resources, self._get_policy_config(policy.name),
                                           self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
            try:
                result = policy.validate(args, report)
                if inspect.isawaitable(result):
                    loop = asyncio.new_event_loop()
                    try:
                        loop.run_until_complete(result)
                    finally:
                        loop.close()
            except sdk.UnknownValueError as error:
                response.diagnostics.append(proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=self._PolicyAnalyzerServicer__policy_pack_name,  # type: ignore[attr-defined]
                    policyPackVersion=self._PolicyAnalyzerServicer__policy_pack_version,  # type: ignore[attr-defined]
                    message=f"can't run policy '{policy.name}' from policy pack '{pack}' during preview: "
                            f"{error.message}",
                    urn="", description=policy.description,
                    enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY)))
            except sdk._NotApplicableError as error:  # noqa: SLF001
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name,
                                                                         reason=error.reason or ""))
        return response

    def _stack_resources(self, request: Any) -> list[sdk.PolicyResource]:
        """`PolicyResource`s of an AnalyzeStack request, with parents and dependencies linked."""
        resources: list[sdk.PolicyResource] = []
        links = []
        for r in request.resources:
            resource = sdk.PolicyResource(r.type, _decoded_props(r.properties), r.urn, r.name,
                                          self._get_resource_options(r),
                                          self._get_provider_resource(r), None, [], {})
            resources.append(resource)
            links.append((resource, r.parent, list(r.dependencies),
                          {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, parent, dependencies, property_dependencies in links:
            if parent and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[u] for u in urns if u in by_urn]
        return resources


def _decoded_props(properties: Any) -> Any:
    """A resource's properties as policies read them, decoded the way the SDK's servicer does."""
    return sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(properties)))


class _IdentityMemo:
    """Memoize a one-argument pure function on the identity of its argument.

    One cache for all the server's threads: `AnalyzeStack` then reuses what the `Analyze`
    calls on other threads decoded (see `_ContentKeyedMessageToDict`).
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self._cache: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, argument: Any, *more: Any, **options: Any) -> Any:
        if more or options:  # e.g. deserialize_properties(props, proxy_secrets=True) for Remediate
            return self.function(argument, *more, **options)
        with self._lock:
            hit = self._cache.get(id(argument))
        if hit is not None and hit[0] is argument:
            return hit[1]
        result = self.function(argument)
        with self._lock:  # the argument is held, so its id is not reused while cached
            self._cache[id(argument)] = (argument, result)
            if len(self._cache) > _CAPACITY:
                self._cache.popitem(last=False)
        return result


class _ContentKeyedMessageToDict:
    """`MessageToDict` memoized on the message's bytes.

    The engine sends each resource twice, in its `Analyze` request and again in
    `AnalyzeStack`, as distinct messages with the same content; keyed on content, the stack
    request finds the dicts (and, through the identity memos, the decoded properties)
    already built. Hashing the bytes costs a fraction of decoding them again.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self._cache: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, message: Any, *more: Any, **options: Any) -> Any:
        if more or options:
            return self.function(message, *more, **options)
        key = (message.DESCRIPTOR.full_name, message.SerializeToString(deterministic=True))
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        result = self.function(message)
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > _CAPACITY:
                self._cache.popitem(last=False)
        return result


class _JsonFormat:
    """Stands in for `google.protobuf.json_format` inside `pulumi_policy.policy`."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.MessageToDict = _ContentKeyedMessageToDict(module.MessageToDict)  # noqa: N815 - mirrors the module API

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install() -> None:
    """Serve `PolicyPack` through `TypeDispatchingServicer` with memoized decoders (idempotent)."""
    if isinstance(sdk.json_format, _JsonFormat):
        return
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _IdentityMemo(sdk.deserialize_properties)  # type: ignore[assignment]
    sdk.unknown_checking_proxy = _IdentityMemo(sdk.unknown_checking_proxy)  # type: ignore[assignment]
    sdk._PolicyAnalyzerServicer = TypeDispatchingServicer  # type: ignore[misc, assignment]  # noqa: SLF001
