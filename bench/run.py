"""Benchmarks (`make bench`): ratios against baselines measured in the same run.

1. preview/floor: the full offline preview of `prod` (config, stack program with its
   components, policy pack over gRPC, text rendering) against the floor: the same provider
   resources declared directly with the pulumi-aws / pulumi-kubernetes classes under the
   same mocks, with no components, no policy and no rendering. The floor keeps what the
   resources themselves carry: each input computed from another resource is an output of
   it, and the resource options (provider, protect, dependsOn, ...) are the program's. The
   ratio against an unlinked floor (resolved values, no options: cheaper than any program
   declaring these resources) is shown too, without a target, and so is the stack program
   alone against the floor (its components, without the policy pack and the report): where
   the preview's time over the floor goes.
2. scaling: preview time with 50 services against 5 (generated stack configs).
3. analyzer throughput: resources per second through `Analyze` on the gRPC analyzer, and
   the pack's start-up time.

Each figure is the median of several runs after a warm-up, the runs of the things compared
taking turns and each starting from a collected heap; machines are noisy, so only ratios
are compared with targets, and the preview/floor ratio (the closest to its target) comes
with a bootstrap interval over its rounds. The preview is timed as `relstack preview` runs
it (including its garbage-collector settings), from the stack's config to the rendered
text report.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import importlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reliability_stack.collector import rarer_collections  # noqa: E402
from reliability_stack.config import read_stack_file  # noqa: E402
from reliability_stack.preview.analyzer import PolicyAnalyzer, load_policy_config, provider_urn  # noqa: E402
from reliability_stack.preview.capture import CapturedResource, capture_program  # noqa: E402
from reliability_stack.preview.engine import read_project, run_preview, run_program  # noqa: E402
from reliability_stack.preview.render import render_text  # noqa: E402

TARGETS = {"preview/floor": 1.25, "scaling 50/5": 11.0, "analyzer resources/s": 2000.0}


def _median_seconds(action: Callable[[], Any], repeats: int) -> float:
    return statistics.median(_interleaved_samples({"action": action}, repeats)["action"])


def _interleaved_samples(actions: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Seconds of each action, `repeats` samples each, taken in turns so that drift in the machine hits them alike.

    Each sample starts from a collected heap: otherwise a sample pays for the garbage the
    previous one left, whichever action that was.
    """
    for action in actions.values():
        action()  # warm-up: module imports and caches are not what we measure
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            gc.collect()
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return samples


def round_ratio_quartiles(numerator: list[float], denominator: list[float]) -> list[float]:
    """Quartiles of the ratios of samples taken in the same round: how steady the ratio of medians is."""
    return statistics.quantiles([n / d for n, d in zip(numerator, denominator, strict=True)], n=4)


def ratio_interval(numerator: list[float], denominator: list[float], *, confidence: float = 0.95,
                   resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the ratio of medians: rounds drawn with replacement, each round's pair kept together.

    How far the run's noise could have moved the figure compared with the target. Seeded:
    the same samples always give the same interval.
    """
    rounds = list(zip(numerator, denominator, strict=True))
    draw = random.Random(seed).choices
    ratios = sorted(statistics.median(n for n, _ in drawn) / statistics.median(d for _, d in drawn)
                    for drawn in (draw(rounds, k=len(rounds)) for _ in range(resamples)))
    tail = (1 - confidence) / 2
    return ratios[int(tail * (resamples - 1))], ratios[round((1 - tail) * (resamples - 1))]


def _provider_class(type_token: str) -> Any:
    """The SDK class for a type token, e.g. aws:lb/loadBalancer:LoadBalancer -> pulumi_aws.lb.LoadBalancer."""
    package, module_path, class_name = type_token.split(":")
    roots = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes"}
    if package == "pulumi" and module_path == "providers":  # pulumi:providers:aws -> pulumi_aws.Provider
        return importlib.import_module(roots[class_name]).Provider
    root = roots[package]
    if package == "kubernetes":
        group, version = module_path.split("/")
        module_name = f"{root}.{group.split('.')[0].replace('-', '_')}.{version}"
    else:
        module_name = f"{root}.{module_path.split('/')[0]}"
    return getattr(importlib.import_module(module_name), class_name)


def _python_names(cls: Any) -> dict[str, str]:
    """The args class's map from engine (camelCase) names to Python keyword names."""
    from pulumi import _types

    args_class = getattr(importlib.import_module(cls.__module__), f"{cls.__name__}Args", None)
    if args_class is None:
        return {}
    return {engine: python for python, engine in _types.input_type_py_to_pulumi_names(args_class).items()}


def _dependencies_first(resources: list[CapturedResource]) -> list[CapturedResource]:
    """The resources in an order a program could declare them: each after what it refers to."""
    members = {r.urn for r in resources}
    waiting_on = {r.urn: {u for u in _references(r) if u in members} for r in resources}
    ordered: list[CapturedResource] = []
    done: set[str] = set()
    pending = list(resources)
    while pending:
        ready = [r for r in pending if waiting_on[r.urn] <= done]
        if not ready:
            raise ValueError("circular references among the captured resources")
        ordered.extend(ready)
        done.update(r.urn for r in ready)
        pending = [r for r in pending if r.urn not in done]
    return ordered


def _references(resource: CapturedResource) -> set[str]:
    provider = provider_urn(resource.options)
    return set(resource.options.get("dependsOn") or ()) | ({provider} if provider else set())


Declared = dict[str, tuple[CapturedResource, pulumi.CustomResource]]  # by the program's URN


@dataclass
class _FloorResource:
    """One provider resource as the floor program declares it."""

    captured: CapturedResource
    name: str
    cls: Any | None  # None: declared as a generic CustomResource of the captured type
    inputs: dict[str, Any]  # keyword names for `cls`, engine names when generic
    sources: dict[str, list[str]]  # input -> URNs its value came from
    engine_names: dict[str, str]  # keyword name -> engine name

    def declare(self, declared: Declared, linked: bool) -> pulumi.CustomResource:
        inputs = self.inputs
        if linked:
            inputs = {key: _linked(value, [declared[u] for u in self.sources.get(key, ()) if u in declared])
                      for key, value in inputs.items()}
        opts = self.options(declared) if linked else None
        if self.cls is not None:
            try:
                return self.cls(self.name, **inputs, opts=opts)
            except TypeError:  # an input the mocks left empty; declare it generically
                pass
        engine_inputs = {self.engine_names.get(key, key): value for key, value in inputs.items()}
        return pulumi.CustomResource(self.captured.type, self.name, engine_inputs, opts)

    def options(self, declared: Declared) -> pulumi.ResourceOptions:
        """The captured options, referring to the floor's own resources."""
        options = self.captured.options
        from_inputs = {u for urns in self.captured.property_dependencies.values() for u in urns}
        explicit = [declared[u][1] for u in options.get("dependsOn") or () if u not in from_inputs and u in declared]
        provider = provider_urn(options)
        timeouts = options.get("customTimeouts")
        return pulumi.ResourceOptions(
            protect=options.get("protect"), retain_on_delete=options.get("retainOnDelete"),
            ignore_changes=options.get("ignoreChanges") or None,
            delete_before_replace=options.get("deleteBeforeReplace"),
            replace_on_changes=options.get("replaceOnChanges") or None,
            custom_timeouts=pulumi.CustomTimeouts(**timeouts) if timeouts else None,
            provider=cast(pulumi.ProviderResource, declared[provider][1]) if provider in declared else None,
            depends_on=explicit or None)


def _linked(value: Any, sources: list[tuple[CapturedResource, pulumi.CustomResource]]) -> Any:
    """`value` built from its sources' outputs, as a hand-written program builds it.

    Where the value holds each source's output as is (an ARN, a name, an id) those outputs
    go in, as in `alarm_actions=[topic.arn]`; a value computed from them (`f"{arn}/*"`) is
    an `apply` over them.
    """
    if not sources:
        return value
    outputs: dict[str, tuple[int, pulumi.Output[Any]]] = {}
    for number, (captured, declared) in enumerate(sources):
        if captured.resource_id:
            outputs.setdefault(captured.resource_id, (number, declared.id))
        for key, output in captured.outputs.items():
            attribute = declared.__dict__.get(_snake(key), declared.__dict__.get(key))
            if isinstance(output, str) and len(output) >= 3 and isinstance(attribute, pulumi.Output):
                outputs.setdefault(output, (number, attribute))
    used: set[int] = set()

    def rebuild(item: Any) -> Any:
        if isinstance(item, list):
            return [rebuild(inner) for inner in item]
        if isinstance(item, dict):
            return {key: rebuild(inner) for key, inner in item.items()}
        if isinstance(item, str) and item in outputs:
            number, output = outputs[item]
            used.add(number)
            return output
        return item

    rebuilt = rebuild(value)
    if len(used) == len(sources):
        return rebuilt
    return pulumi.Output.all(*(declared.urn for _, declared in sources)).apply(lambda _: value)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _provider_props(props: dict[str, Any]) -> dict[str, Any]:
    """A provider's inputs as its constructor takes them: the engine gets non-strings JSON-encoded."""
    def typed(value: Any) -> Any:
        try:
            decoded = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return value
        return value if isinstance(decoded, str) else decoded

    return {key: typed(value) for key, value in props.items()}


def floor_program(resources: list[CapturedResource], *, linked: bool = True) -> tuple[Callable[[], None], int]:
    """A program declaring the same provider resources directly; returns it and the generic count.

    `linked`: with the program's references between them (an input computed from another
    resource is an output of it) and their resource options (protect, provider, dependsOn,
    ...), as a hand-written program declaring these resources would have them. Unlinked:
    the resolved values only, which no real program declares (shown for comparison).
    """
    plans: list[_FloorResource] = []
    generic = 0
    for index, resource in enumerate(_dependencies_first([r for r in resources if r.custom])):
        name = f"{resource.name}-{index}"  # components no longer prefix the URNs
        try:
            cls = _provider_class(resource.type)
            names = _python_names(cls)
            props = _provider_props(resource.props) if resource.type.startswith("pulumi:providers:") else resource.props
            inputs = {names[key]: value for key, value in props.items()} if names else None
        except (ImportError, AttributeError, KeyError, ValueError):
            inputs = None
        if inputs is None:
            generic += 1
            plans.append(_FloorResource(resource, name, None, dict(resource.props), resource.property_dependencies, {}))
        else:
            sources = {names[key]: urns for key, urns in resource.property_dependencies.items() if key in names}
            plans.append(_FloorResource(resource, name, cls, inputs, sources,
                                        {python: engine for engine, python in names.items()}))

    def program() -> None:
        declared: Declared = {}
        for plan in plans:
            declared[plan.captured.urn] = (plan.captured, plan.declare(declared, linked))

    return program, generic


def _distinct_copies(resources: list[dict[str, Any]], count: int, first_copy: int = 0) -> list[dict[str, Any]]:
    """`count` resources cycling through `resources`, each copy distinct in URN, name and props.

    Distinct, so that the pack's decode caches (which serve a resource's second appearance,
    in `AnalyzeStack`) do not flatter the throughput of first appearances.
    """
    copies = []
    for i in range(count):
        resource = resources[i % len(resources)]
        copy_number = first_copy + i // len(resources)
        copies.append(resource | {"urn": f"{resource['urn']}-{copy_number}", "name": f"{resource['name']}-{copy_number}",
                                  "props": resource["props"] | {"benchCopy": copy_number}})
    return copies


def _renamed_slo_file(folder: Path, path: str, service: str) -> str:
    """A copy of an SLO spec whose SLOs belong to `service` (the program checks ownership)."""
    spec = yaml.safe_load((ROOT / path).read_text())
    spec["service"] = service
    target = folder / "slos" / f"{service}-{Path(path).name}"
    target.parent.mkdir(exist_ok=True)
    target.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(target.relative_to(folder))


def _scaled_project(base_stack: str, services: int, folder: Path) -> Path:
    """A project folder sharing this repo's program and pack, with a stack of N services."""
    for name in ("Pulumi.yaml", "policies", "images"):
        (folder / name).symlink_to(ROOT / name)
    # Copied, not linked: the program finds its project folder from its own path.
    (folder / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (folder / "stacks").mkdir()
    config = read_stack_file(ROOT, base_stack)
    template = config["reliability-stack:services"][0]
    generated = []
    for i in range(services):
        service = copy.deepcopy(template)
        service["name"] = f"{template['name']}-{i}"
        service["domain"] = f"{service['name']}.{template['hosted_zone']}"
        service["slos"] = [_renamed_slo_file(folder, path, service["name"]) for path in template.get("slos", [])]
        regions = config["reliability-stack:regions"]
        service["vpc_cidrs"] = {region: f"10.{4 * i + r}.0.0/16" for r, region in enumerate(regions)}
        generated.append(service)
    config["reliability-stack:services"] = generated
    stack = f"bench{services}"
    (folder / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    policy = ROOT / "stacks" / f"policy-config.{base_stack}.json"
    if policy.exists():
        (folder / "stacks" / f"policy-config.{stack}.json").symlink_to(policy)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="samples per measure (the scaling runs take a quarter)")
    parser.add_argument("--rounds", type=int, default=40,
                        help="rounds of preview and floor samples: 15 moved the ratio by ±0.05 between runs")
    parser.add_argument("--stack", default="prod")
    args = parser.parse_args()
    console = Console()
    rows: list[tuple[str, str, str, str]] = []

    # 1. preview against the floor
    def full_preview(stack: str = args.stack, root: Path = ROOT) -> None:
        render_text(run_preview(stack, root=root).plan)

    project_name = str(read_project(ROOT)["name"])
    captured = run_program(ROOT, project_name, args.stack, read_stack_file(ROOT, args.stack))
    floors = {linked: floor_program(captured.resources, linked=linked) for linked in (True, False)}
    custom_count = sum(1 for r in captured.resources if r.custom)
    # Under the collector settings `relstack preview` runs with, for all: each sample then
    # leaves its garbage for later instead of paying for it at a moment that depends on
    # the counts it happened to end on.
    with rarer_collections():
        samples = _interleaved_samples({
            "preview": full_preview,
            "floor": lambda: capture_program(floors[True][0], stack="floor", config=read_stack_file(ROOT, args.stack)),
            "unlinked": lambda: capture_program(floors[False][0], stack="floor", config=read_stack_file(ROOT, args.stack)),
            "program": lambda: run_program(ROOT, project_name, args.stack, read_stack_file(ROOT, args.stack)),
        }, args.rounds)
    preview_s, floor_s, unlinked_s, program_s = (statistics.median(samples[name])
                                                 for name in ("preview", "floor", "unlinked", "program"))
    quartiles = " / ".join(f"{q:.2f}" for q in round_ratio_quartiles(samples["preview"], samples["floor"]))
    low, high = ratio_interval(samples["preview"], samples["floor"])
    rows.append(("preview/floor", f"{preview_s / floor_s:.2f}", f"≤ {TARGETS['preview/floor']}",
                 f"preview {preview_s:.2f} s, floor {floor_s:.2f} s ({custom_count} provider resources, "
                 f"{floors[True][1]} declared generically); 95% interval of the ratio {low:.2f}-{high:.2f} "
                 f"(bootstrap over {args.rounds} rounds); ratio within a round, quartiles {quartiles}"))
    rows.append(("preview/unlinked floor", f"{preview_s / unlinked_s:.2f}", "",
                 f"unlinked floor {unlinked_s:.2f} s: resolved inputs, no resource options"))
    rows.append(("program/floor", f"{program_s / floor_s:.2f}", "",
                 f"the stack program alone {program_s:.2f} s: its components, no policy pack, no report"))

    # 2. scaling with services
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as large:
        projects = {5: _scaled_project(args.stack, 5, Path(small)), 50: _scaled_project(args.stack, 50, Path(large))}
        with rarer_collections():
            timings = {int(n): statistics.median(seconds) for n, seconds in _interleaved_samples(
                {str(n): functools.partial(full_preview, f"bench{n}", project) for n, project in projects.items()},
                max(1, args.repeats // 4)).items()}
    scaling = timings[50] / timings[5]
    rows.append(("scaling 50/5", f"{scaling:.2f}", f"≤ {TARGETS['scaling 50/5']}",
                 f"5 services {timings[5]:.2f} s, 50 services {timings[50]:.2f} s (10× the services)"))

    # 3. analyzer throughput and start-up
    resources = [r.to_plan() for r in captured.resources]
    size = max(2000, len(resources))
    # A fresh batch per call: every Analyze is a first appearance, as in a preview.
    batches = iter([_distinct_copies(resources, size, first_copy=k * size) for k in range(3 * (args.repeats + 1))])
    config = load_policy_config(ROOT / "stacks" / f"policy-config.{args.stack}.json")
    starts = []
    for _ in range(3):
        start = time.perf_counter()
        with PolicyAnalyzer(config, pack_dir=ROOT / "policies") as analyzer:
            starts.append(time.perf_counter() - start)
            seconds = _median_seconds(lambda: analyzer.analyze_many(next(batches)), args.repeats)
            stack_seconds = _median_seconds(functools.partial(analyzer.analyze_stack, resources), args.repeats)
    throughput = size / seconds
    rows.append(("analyzer resources/s", f"{throughput:.0f}", f"≥ {TARGETS['analyzer resources/s']:.0f}",
                 f"{size} Analyze calls in {seconds:.2f} s; AnalyzeStack of {len(resources)} (analyzed before) in "
                 f"{stack_seconds * 1000:.0f} ms; pack start-up {statistics.median(starts) * 1000:.0f} ms"))

    table = Table(title=f"reliability-stack benchmarks (stack {args.stack}, medians of {args.rounds} rounds for "
                        f"the preview, {args.repeats} runs for the analyzer, {max(1, args.repeats // 4)} for scaling)")
    for column in ("measure", "value", "target", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
