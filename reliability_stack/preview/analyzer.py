"""Talk to the policy pack exactly as the Pulumi engine does: over the analyzer gRPC protocol.

`PolicyAnalyzer` starts `policies/__main__.py` with the project's interpreter (the process
`pulumi preview --policy-pack policies` starts), reads the port it prints, resolves the
per-stack policy config the way the CLI resolves `--policy-pack-config`, sends `Configure`,
then `Analyze` per resource and `AnalyzeStack` for the whole stack.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, struct_pb2

from reliability_stack.errors import ConfigError, ReliabilityStackError
from reliability_stack.preview.analyzer_protocol import analyzer_pb2, analyzer_pb2_grpc
from reliability_stack.preview.processes import stop_soon

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
ANALYZE_STACK_METHOD = f"/{analyzer_pb2.DESCRIPTOR.services_by_name['Analyzer'].full_name}/AnalyzeStack"
LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
LEVEL_VALUES = {name: value for value, name in LEVEL_NAMES.items()}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class AnalyzerError(ReliabilityStackError):
    """The policy pack process could not be started or did not answer: exit 3, not a violation (1)."""

    exit_code = 3


def _duration_seconds(text: str | None) -> float:
    """Go duration strings ("10m", "1h30m") as seconds: the analyzer protocol carries doubles."""
    if not text:
        return 0.0
    return sum(float(amount) * _SECONDS[unit] for amount, unit in _DURATION.findall(text))


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(value))
    return message


def _field(resource: Any, name: str) -> Any:
    return resource[name] if isinstance(resource, Mapping) else getattr(resource, name)


def _resource_options(resource: Any) -> analyzer_pb2.AnalyzerResourceOptions:
    options = _field(resource, "options") or {}
    timeouts = options.get("customTimeouts") or {}
    message = analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(options.get("protect")),
        ignoreChanges=list(options.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(options.get("deleteBeforeReplace")),
        parent=_field(resource, "parent") or "",
    )
    if timeouts:
        message.customTimeouts.CopyFrom(analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_duration_seconds(timeouts.get("create")),
            update=_duration_seconds(timeouts.get("update")),
            delete=_duration_seconds(timeouts.get("delete")),
        ))
    return message


def _providers(resources: Iterable[Any]) -> dict[str, Any]:
    """Explicit provider resources among `resources`, by URN."""
    return {_field(r, "urn"): r for r in resources if str(_field(r, "type")).startswith("pulumi:providers:")}


def provider_urn(options: Mapping[str, Any] | None) -> str | None:
    """The URN in a resource's provider option, a provider reference `<urn>::<id>`."""
    reference = (options or {}).get("provider")
    return reference.rsplit("::", 1)[0] if reference else None


def _provider_of(resource: Any, providers: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The provider a resource was declared with, as the engine describes it to the analyzer.

    Policies use it to tell apart, e.g., two Kubernetes clusters that each run a copy of a
    workload.
    """
    urn = provider_urn(_field(resource, "options"))
    if urn is None:
        return None
    provider = providers.get(urn)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=_field(provider, "type"), properties=_struct(_field(provider, "props")),
        urn=urn, name=_field(provider, "name"))


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, default_urn: str = "") -> list[dict[str, Any]]:
    return [
        {
            "policy": diagnostic.policyName,
            "enforcementLevel": LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory"),
            "urn": diagnostic.urn or default_urn,
            "message": diagnostic.message,
        }
        for diagnostic in response.diagnostics
    ]


def resolve_policy_config(
    info: analyzer_pb2.AnalyzerInfo, file_config: Mapping[str, Any] | None, *, source: str
) -> dict[str, dict[str, Any]]:
    """Merge schema defaults, the pack's initial config and a `--policy-pack-config` document.

    Returns `{policy: {"enforcementLevel": level, **properties}}` for every policy, and
    rejects unknown policies, unknown levels and properties that break a policy's schema.
    """
    from google.protobuf import json_format

    file_config = dict(file_config or {})
    policies = {policy.name: policy for policy in info.policies}
    all_level = file_config.pop("all", None)
    if all_level is not None and all_level not in LEVEL_VALUES:
        raise ConfigError(f"unknown enforcement level {all_level!r}", file=source, field="all")
    for name in file_config:
        if name not in policies:
            raise ConfigError(f"no policy named {name!r} in pack {info.name!r}", file=source, field=name)
    resolved: dict[str, dict[str, Any]] = {}
    for name, policy in policies.items():
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        properties: dict[str, Any] = {
            key: spec["default"] for key, spec in schema.get("properties", {}).items() if "default" in spec
        }
        level = LEVEL_NAMES[policy.enforcementLevel]
        if name in info.initialConfig:
            initial = info.initialConfig[name]
            level = LEVEL_NAMES[initial.enforcementLevel] if initial.enforcementLevel else level
            properties.update(json_format.MessageToDict(initial.properties))
        if all_level is not None:
            level = all_level
        entry = file_config.get(name)
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        if entry is not None:
            if not isinstance(entry, Mapping):
                raise ConfigError("expected an enforcement level or a mapping", file=source, field=name)
            entry = dict(entry)
            level = entry.pop("enforcementLevel", level)
            properties.update(entry)
        if level not in LEVEL_VALUES:
            raise ConfigError(f"unknown enforcement level {level!r}", file=source, field=f"{name}.enforcementLevel")
        if schema.get("properties"):
            validator = jsonschema.Draft7Validator({"type": "object", **schema})
            for error in validator.iter_errors(properties):
                where = ".".join(str(p) for p in error.absolute_path) or "(properties)"
                raise ConfigError(error.message, file=source, field=f"{name}.{where}")
        resolved[name] = {"enforcementLevel": level, **properties}
    return resolved


class PolicyAnalyzer:
    """A running policy pack, driven over gRPC as the engine drives it."""

    def __init__(
        self,
        policy_config: Mapping[str, Any] | None = None,
        *,
        pack_dir: Path = PACK_DIR,
        config_source: str = "policy config",
        stack_tags: Mapping[str, str] | None = None,
    ) -> None:
        self.pack_dir = pack_dir
        self.file_config = policy_config
        self.config_source = config_source
        self.stack_tags = dict(stack_tags or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.info: analyzer_pb2.AnalyzerInfo | None = None
        self.resolved_config: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> PolicyAnalyzer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Spawn the pack and connect to it."""
        self.spawn()
        self.connect()

    def spawn(self) -> None:
        """Start the pack process without waiting for it: the caller can work while it loads."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, str(self.pack_dir / "__main__.py")],
            cwd=self.pack_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )

    def connect(self) -> None:
        """Read the port the spawned pack prints, connect and configure it."""
        assert self.process is not None and self.process.stdout is not None
        first_line = self.process.stdout.readline().decode().strip()
        if not first_line.isdigit():
            raise self.start_failure()
        self.attach(first_line)

    def start_failure(self) -> AnalyzerError:
        """Stop a spawned pack that printed no port, and say why from the end of its stderr."""
        assert self.process is not None
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        self.stop()
        return AnalyzerError(f"policy pack {self.pack_dir} did not start: {tail[0]}")

    def attach(self, port: str) -> None:
        """Connect to a pack serving on `port` (started here or by another process) and configure it."""
        try:
            self._connect(port)
        except BaseException:
            self.stop()
            raise

    def _connect(self, port: str) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.resolved_config = resolve_policy_config(self.info, self.file_config, source=self.config_source)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in self.resolved_config.items():
            properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                enforcementLevel=LEVEL_VALUES[entry["enforcementLevel"]], properties=_struct(properties)))
        self.stub.Configure(request)
        if self.stack_tags:
            self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(tags=self.stack_tags))

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            stop_soon(self.process)
            self.process = None

    @property
    def policies(self) -> list[dict[str, Any]]:
        """The pack's policies as the engine sees them (name, description, level, type)."""
        assert self.info is not None
        return [
            {
                "name": p.name,
                "description": p.description,
                "enforcementLevel": self.resolved_config.get(p.name, {}).get(
                    "enforcementLevel", LEVEL_NAMES[p.enforcementLevel]),
                "type": "stack" if p.policy_type == analyzer_pb2.PolicyType.POLICY_TYPE_STACK else "resource",
                "remediationSteps": p.remediation_steps,
            }
            for p in self.info.policies
        ]

    def analyze(self, resource: Any, providers: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """`Analyze` one resource; returns its diagnostics. `providers` maps URN to provider resource."""
        assert self.stub is not None
        message = _resource_message(resource, providers or {})
        return _diagnostics(self.stub.Analyze(_analyze_request(message)), message.urn)

    def analyze_many(self, resources: Iterable[Any], *, window: int = 64) -> list[dict[str, Any]]:
        """`Analyze` every resource, several requests in flight as the engine does."""
        resources = list(resources)
        assert self.stub is not None
        stream = AnalysisStream(self.stub, None, window=window, providers=_providers(resources))
        for resource in resources:
            stream.add(resource)
        return stream.drain()

    def stream(self, *, window: int = 128, providers: Mapping[str, Any] | None = None) -> AnalysisStream:
        """Analyze resources as they arrive, and the stack once they are all in (as the engine does)."""
        assert self.stub is not None
        assert self.channel is not None
        analyze_stack_encoded = self.channel.unary_unary(
            ANALYZE_STACK_METHOD, request_serializer=None, response_deserializer=analyzer_pb2.AnalyzeResponse.FromString)
        return AnalysisStream(self.stub, analyze_stack_encoded, window=window, providers=providers)

    def analyze_stack(self, resources: Iterable[Any]) -> list[dict[str, Any]]:
        """`AnalyzeStack` over all resources; returns the stack policies' diagnostics."""
        assert self.stub is not None
        request = analyzer_pb2.AnalyzeStackRequest(resources=_resource_messages(resources))
        return _diagnostics(self.stub.AnalyzeStack(request))


class AnalysisStream:
    """`Analyze` for each resource as it arrives (up to `window` in flight), then `AnalyzeStack`.

    Explicit providers must arrive before the resources declared with them (registration
    order does that), unless they are all given up front as `providers`.
    """

    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub, analyze_stack_encoded: grpc.UnaryUnaryMultiCallable | None,
                 *, window: int, providers: Mapping[str, Any] | None = None) -> None:
        self.stub = stub
        # AnalyzeStack taking the request's bytes; None: `Analyze` only, no stack request is built.
        self.analyze_stack_encoded = analyze_stack_encoded
        self.window = window
        # The AnalyzeStack request, encoded as resources arrive: encoded messages concatenate
        # into one holding all their repeated items (protobuf's merge rule), so the program's
        # end only has to put them in order and send the bytes. By URN, as the plan lists
        # them: in arrival order, which of two resources registered at once a stack policy
        # met first (and named in its report) changed from run to run.
        self.stack_request: list[tuple[str, bytes]] = []
        self.providers: dict[str, Any] = dict(providers or {})
        self.in_flight: deque[tuple[str, Any]] = deque()
        self.found: list[dict[str, Any]] = []

    def add(self, resource: Any) -> None:
        if str(_field(resource, "type")).startswith("pulumi:providers:"):
            self.providers[_field(resource, "urn")] = resource
        message = _resource_message(resource, self.providers)
        if self.analyze_stack_encoded is not None:
            self.stack_request.append(
                (message.urn, analyzer_pb2.AnalyzeStackRequest(resources=[message]).SerializeToString()))
        if len(self.in_flight) >= self.window:
            self._collect_oldest()
        self.in_flight.append((message.urn, self.stub.Analyze.future(_analyze_request(message))))

    def finish(self) -> list[dict[str, Any]]:
        """Every diagnostic: the resources' and, from `AnalyzeStack`, the stack policies'."""
        assert self.analyze_stack_encoded is not None
        self.stack_request.sort()
        stack_call = self.analyze_stack_encoded.future(b"".join(encoded for _, encoded in self.stack_request))
        return self.drain() + _diagnostics(stack_call.result())

    def drain(self) -> list[dict[str, Any]]:
        """The diagnostics of every `Analyze` sent so far."""
        while self.in_flight:
            self._collect_oldest()
        return self.found

    def _collect_oldest(self) -> None:
        urn, call = self.in_flight.popleft()
        self.found.extend(_diagnostics(call.result(), urn))


def _resource_message(resource: Any, providers: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResource:
    """One resource as the engine describes it to the analyzer (inputs, options, parent, provider)."""
    options = _field(resource, "options") or {}
    message = analyzer_pb2.AnalyzerResource(
        type=_field(resource, "type"), properties=_struct(_field(resource, "props")),
        urn=_field(resource, "urn"), name=_field(resource, "name"), options=_resource_options(resource),
        parent=_field(resource, "parent") or "", dependencies=list(options.get("dependsOn") or []),
    )
    provider = _provider_of(resource, providers)
    if provider is not None:
        message.provider.CopyFrom(provider)
    return message


def _resource_messages(resources: Iterable[Any]) -> list[analyzer_pb2.AnalyzerResource]:
    resources = list(resources)
    providers = _providers(resources)
    return [_resource_message(resource, providers) for resource in resources]


def _analyze_request(message: analyzer_pb2.AnalyzerResource) -> analyzer_pb2.AnalyzeRequest:
    """The `Analyze` request for a resource: the same fields, without parent and dependencies."""
    request = analyzer_pb2.AnalyzeRequest(type=message.type, urn=message.urn, name=message.name)
    request.properties.CopyFrom(message.properties)
    request.options.CopyFrom(message.options)
    if message.HasField("provider"):
        request.provider.CopyFrom(message.provider)
    return request


def load_policy_config(path: Path) -> dict[str, Any]:
    """Read a `--policy-pack-config` JSON file (absent file: no overrides)."""
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"malformed JSON ({exc.msg})", file=path, field=f"line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise ConfigError("expected a JSON object of policy names", file=path, field="(document)")
    return document


__all__ = ["AnalyzerError", "PolicyAnalyzer", "load_policy_config", "resolve_policy_config"]
