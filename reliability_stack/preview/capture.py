"""Run a Pulumi program under the SDK mock runtime and capture what it declares.

The engine is replaced by a `MockMonitor` subclass: every `RegisterResource` request is
recorded with its inputs *and* its resource options (protect, ignoreChanges, ...), which
`Mocks.new_resource` never sees (pulumi/pulumi#14421).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from reliability_stack.collector import rarer_collections
from reliability_stack.preview.mocks import RealisticMocks
from reliability_stack.preview.stack_traces import cheaper_stack_traces

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class CapturedResource:
    """One resource as the engine would receive it: identity, inputs and options."""

    urn: str
    type: str
    name: str
    parent: str | None
    props: dict[str, Any]
    options: dict[str, Any]
    custom: bool = True
    outputs: dict[str, Any] = field(default_factory=dict)
    resource_id: str = ""
    # Input name -> URNs its value came from (the request's propertyDependencies); the union,
    # with explicit dependsOn, is `options["dependsOn"]`.
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    def to_plan(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent,
                "props": self.props, "options": self.options}


@dataclass
class CapturedStack:
    """Everything a program declared, plus its stack outputs."""

    resources: list[CapturedResource]
    stack_urn: str
    exports: dict[str, Any]
    warnings: list[str]


def _options_of(request: Any) -> dict[str, Any]:
    timeouts = request.customTimeouts
    custom_timeouts = {k: getattr(timeouts, k) for k in ("create", "update", "delete") if getattr(timeouts, k)}
    return {
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        "ignoreChanges": list(request.ignoreChanges),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "replaceOnChanges": list(request.replaceOnChanges),
        "dependsOn": sorted(set(request.dependencies)),
        "customTimeouts": custom_timeouts or None,
        "provider": request.provider or None,
    }


def _plain(value: Any) -> Any:
    """JSON-safe copy of deserialized inputs; whole-number floats (the wire has no ints) read as ints."""
    def normalise(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer() and abs(item) < 2**53:
            return int(item)
        if isinstance(item, dict):
            return {key: normalise(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [normalise(inner) for inner in item]
        return item

    return normalise(json.loads(json.dumps(value, default=repr)))


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A mock engine monitor that records each registration with its options."""

    def __init__(self, mocks: pulumi.runtime.Mocks,
                 on_resource: Callable[[CapturedResource], None] | None = None) -> None:
        super().__init__(mocks)
        self.on_resource = on_resource
        self.captured: list[CapturedResource] = []
        self._urns: set[str] = set()
        self.stack_urn = ""
        self.duplicates: list[str] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == ROOT_STACK_TYPE:
            self.stack_urn = response.urn
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = self.resources[response.urn].state
        resource = CapturedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            props=_plain(inputs),
            options=_options_of(request),
            custom=bool(request.custom),
            outputs=_plain(outputs),
            resource_id=response.id,
            property_dependencies={key: sorted(set(deps.urns))
                                   for key, deps in request.propertyDependencies.items() if deps.urns},
        )
        with self._lock:
            # The engine rejects two resources with one URN; mocks do not, so we do.
            if resource.urn in self._urns:
                self.duplicates.append(resource.urn)
            self._urns.add(resource.urn)
            self.captured.append(resource)
        if self.on_resource is not None:
            self.on_resource(resource)
        return response


class DuplicateResourceError(RuntimeError):
    """Two resources share a URN: the Pulumi engine would refuse the program."""


def _config_strings(config: dict[str, Any]) -> dict[str, str]:
    # Pulumi config values are strings; structured values travel as JSON.
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def capture_program(
    program: Callable[[], Any],
    *,
    stack: str = "test",
    project: str = "reliability-stack",
    config: dict[str, Any] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
    on_resource: Callable[[CapturedResource], None] | None = None,
) -> CapturedStack:
    """Run `program` under the mock runtime (not in preview mode) and return what it declared.

    `preview=False` so that every `apply` runs: under `preview=True`, unreturned outputs
    stay unknown and assertions inside them pass vacuously. `on_resource` sees each resource
    as it registers, as the engine does (providers before the resources that use them).
    """
    config = dict(config or {})
    region = str(config.get("aws:region", "us-east-1"))
    monitor = CapturingMonitor(mocks or RealisticMocks(default_region=region), on_resource)
    engine_log = _EngineLog()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with rarer_collections(), cheaper_stack_traces(), warnings.catch_warnings(record=True) as python_warnings:
            warnings.simplefilter("always", DeprecationWarning)
            exports = _run(program, monitor, engine_log, project=project, stack=stack, config=config)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    if monitor.duplicates:
        raise DuplicateResourceError(f"duplicate resource URN: {monitor.duplicates[0]}")
    resources = sorted(monitor.captured, key=lambda r: r.urn)
    found_warnings = engine_log.warnings + [
        f"{w.category.__name__}: {w.message}" for w in python_warnings
        if issubclass(w.category, DeprecationWarning) and _is_provider_warning(w.filename)
    ]
    return CapturedStack(resources=resources, stack_urn=monitor.stack_urn, exports=exports, warnings=found_warnings)


def _is_provider_warning(filename: str) -> bool:
    # Provider SDKs warn about deprecated resources and properties through the engine log
    # (collected separately) and emit import-time noise as Python warnings; of the latter
    # only our own code's deprecations concern the program.
    return "site-packages" not in filename


class _EngineLog:
    """Collects what the program logs through `pulumi.log.warn` (the engine's Log RPC)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.logger = logging.getLogger(f"reliability_stack.preview.engine.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.WARNING)
        handler = logging.Handler()
        handler.emit = lambda record: self.warnings.append(record.getMessage())  # type: ignore[method-assign]
        self.logger.addHandler(handler)


async def _resolved_exports(root: Any) -> dict[str, Any]:
    outputs = getattr(root, "outputs", None) or {}
    resolved: dict[str, Any] = {}
    for key, value in outputs.items():
        resolved[key] = _plain(await pulumi.Output.from_input(value).future())
    return resolved


def _run(program: Callable[[], Any], monitor: CapturingMonitor, engine_log: _EngineLog, *,
         project: str, stack: str, config: dict[str, Any]) -> dict[str, Any]:
    settings.reset_options(project=project, stack=stack, preview=False)
    pulumi.runtime.set_all_config(_config_strings(config))
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor,
                             logger=engine_log.logger)
    root = settings.get_root_resource()
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    return _sync_await(_resolved_exports(root))
