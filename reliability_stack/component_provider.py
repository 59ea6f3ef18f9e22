"""Adapter: expose the package's components to every Pulumi language as a component provider.

`provider/__main__.py` hosts `exposed_components()` with
`pulumi.provider.experimental.component_provider_host`; the SDK infers the package schema
from the type annotations of each component's `args`. Three gaps of that analyzer are
closed here rather than in every component:

* our args are `@dataclass`es whose defaults make a field optional, but the analyzer only
  knows `Optional[...]`/`NotRequired[...]`: fields with a default are marked optional;
* modules written with `from __future__ import annotations` carry string annotations,
  which the analyzer does not evaluate: they are resolved first;
* `Literal["a", "b"]` is described as its value type (the component still validates it),
  and a homogeneous `tuple[X, ...]` as an array of X.

The provider passes a component its inputs as plain nested dicts; `hosted()` wraps each
component so the dict is rebuilt into its dataclass args first.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
import typing
from typing import Any

import pulumi
from pulumi.provider.experimental import analyzer as sdk_analyzer
from pulumi.provider.experimental import component as sdk_component
from pulumi.provider.experimental.schema import generate_schema
from pulumi.provider.experimental.util import camel_case
from pulumi.resource import ComponentResource, Resource

from reliability_stack.dataclass_inputs import build_dataclass

PACKAGE = "reliability-stack"

# Public components that cannot be described by a package schema, and why. Every other
# public ComponentResource under reliability_stack.components is exposed.
NOT_EXPOSED: dict[str, str] = {
    "AlertRouting": "its `routing` input is the stack-config model `AlertRouting`, whose schema type token "
                    "would equal the component's own token `reliability-stack:index:AlertRouting`",
    "KubeService": "its `prometheus_rule` output is a pulumi_kubernetes CustomResource, which has no "
                   "`pulumi_type` a schema could reference",
}


def public_components() -> list[type[ComponentResource]]:
    """Every public ComponentResource defined in a module of `reliability_stack.components`."""
    import reliability_stack.components as package

    found: dict[str, type[ComponentResource]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, ComponentResource) and not name.startswith("_")
                    and value.__module__ == module.__name__):
                found[name] = value
    return [found[name] for name in sorted(found)]


def args_type(component: type[ComponentResource]) -> type:
    """The (resolved) annotation of the `args` parameter of a component's constructor."""
    return inspect.get_annotations(component.__init__, eval_str=True)["args"]


class _SchemaToken(ComponentResource):
    """Registers a hosted component under its schema token `reliability-stack:index:<Name>`.

    Placed after the component in a hosted class's MRO, it receives the component's own
    `super().__init__("reliability-stack:<module>:<Name>", ...)`: the engine asked the
    provider to construct the `index` token, so that is the type the component registers.
    """

    def __init__(self, t: str, name: str, props: Any = None, opts: pulumi.ResourceOptions | None = None,
                 remote: bool = False, package_ref: Any = None) -> None:
        package, _, component = t.split(":", 2)
        if package == PACKAGE:
            t = f"{PACKAGE}:index:{component.rsplit(':', 1)[-1]}"
        super().__init__(t, name, props, opts, remote, package_ref)


def hosted(component: type[ComponentResource]) -> type[ComponentResource]:
    """A subclass of `component` that accepts its args as the provider's plain dict.

    Same name, module and docstring, so the schema and its descriptions are unchanged.
    """
    arguments = args_type(component)
    component_init: Any = component.__init__  # the component's (name, args, opts) signature

    def __init__(self: Any, name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> None:
        component_init(self, name, build_dataclass(arguments, args), opts)

    __init__.__annotations__ = {"name": str, "args": arguments, "opts": pulumi.ResourceOptions | None,
                                "return": None}
    return type(component.__name__, (component, _SchemaToken), {
        "__init__": __init__, "__doc__": component.__doc__, "__module__": component.__module__,
        "__qualname__": component.__qualname__})


class DataclassAnalyzer(sdk_analyzer.Analyzer):
    """The SDK's schema analyzer, taught dataclass defaults, string annotations and Literal."""

    def analyze_type(self, typ: type, *, is_component_output: bool) -> tuple[dict, dict[str, str]]:
        annotations: dict[str, Any] = {}
        optional_keys: set[str] = set()
        for cls in reversed(typ.__mro__):
            if cls in (object, Resource, ComponentResource):
                continue
            annotations.update(_resolved_annotations(cls))
            if typing.is_typeddict(cls):
                optional_keys.update(getattr(cls, "__optional_keys__", ()))
        if dataclasses.is_dataclass(typ) and not is_component_output:
            optional_keys.update(f.name for f in dataclasses.fields(typ)
                                 if f.default is not dataclasses.MISSING
                                 or f.default_factory is not dataclasses.MISSING)
        annotations = {key: value for key, value in annotations.items() if not key.startswith("_")}
        properties = {
            camel_case(key): self.analyze_property(
                value, typ, key, can_be_plain=not is_component_output, is_component_output=is_component_output,
                optional=True if key in optional_keys else None)
            for key, value in annotations.items()
        }
        return properties, {camel_case(key): key for key in annotations}

    def analyze_property(self, arg: type, typ: type, name: str, *, can_be_plain: bool,
                         is_component_output: bool, optional: bool | None = None) -> Any:
        origin = typing.get_origin(arg)
        if origin is typing.Literal:
            arg = type(typing.get_args(arg)[0])
        elif origin is typing.Annotated:
            arg = typing.get_args(arg)[0]
        elif origin is tuple and len(typing.get_args(arg)) == 2 and typing.get_args(arg)[1] is Ellipsis:
            arg = types.GenericAlias(list, (typing.get_args(arg)[0],))  # type: ignore[assignment]
        return super().analyze_property(arg, typ, name, can_be_plain=can_be_plain,
                                        is_component_output=is_component_output, optional=optional)


def _resolved_annotations(cls: type) -> dict[str, Any]:
    try:
        return inspect.get_annotations(cls, eval_str=True)
    except (NameError, TypeError, SyntaxError):
        # A name imported only for type checking: fall back to what the class declares as is.
        return dict(inspect.get_annotations(cls))


def exposed_components() -> list[type[ComponentResource]]:
    """The components the provider hosts, wrapped to accept provider inputs."""
    return [hosted(c) for c in public_components() if c.__name__ not in NOT_EXPOSED]


def analyze(components: list[type[ComponentResource]] | None = None) -> sdk_analyzer.AnalyzeResult:
    """Run the schema analyzer over the exposed components (offline; no engine needed)."""
    return DataclassAnalyzer(PACKAGE).analyze(components if components is not None else exposed_components())


def build_schema(version: str = "0.0.0") -> dict[str, Any]:
    """The package schema `pulumi package get-schema ./provider` would print."""
    result = analyze()
    dependencies = sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}")
    spec = generate_schema(PACKAGE, version, None, result["component_definitions"], result["type_definitions"],
                           dependencies)
    return spec.to_json()


def token_collisions(schema: dict[str, Any]) -> list[str]:
    """Tokens used both by a resource and by a type: generated SDKs would define two classes of one name."""
    return sorted(set(schema.get("resources", {})) & set(schema.get("types", {})))


def use_dataclass_analyzer() -> None:
    """Make the SDK's ComponentProvider build its schema with `DataclassAnalyzer` (provider process only)."""
    sdk_component.Analyzer = DataclassAnalyzer  # type: ignore[misc]
