"""Benchmarks (`make bench`): ratios against baselines measured in the same run.

1. preview/floor: the full offline preview of `prod` (config, stack program with its
   components, policy pack over gRPC, text rendering) against the floor: the same provider
   resources declared directly with the pulumi-aws / pulumi-kubernetes classes under the
   same mocks, with no components, no policy and no rendering.
2. scaling: preview time with 50 services against 5 (generated stack configs).
3. analyzer throughput: resources per second through `Analyze` on the gRPC analyzer, and
   the pack's start-up time.

Each figure is the median of several runs after a warm-up, the runs of the things compared
taking turns and each starting from a collected heap; machines are noisy, so only ratios
are compared with targets. The preview is timed as `relstack preview` runs it (including
its garbage-collector settings), from the stack's config to the rendered text report.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reliability_stack.preview.analyzer import PolicyAnalyzer, load_policy_config  # noqa: E402
from reliability_stack.preview.capture import (  # noqa: E402
    CapturedResource,
    capture_program,
    rarer_collections,
)
from reliability_stack.preview.engine import run_preview  # noqa: E402
from reliability_stack.preview.render import render_text  # noqa: E402

TARGETS = {"preview/floor": 1.25, "scaling 50/5": 11.0, "analyzer resources/s": 2000.0}


def _median_seconds(action: Callable[[], Any], repeats: int) -> float:
    return _interleaved_medians({"action": action}, repeats)["action"]


def _interleaved_medians(actions: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each action, sampled in turns so that drift in the machine hits them alike.

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
    return {name: statistics.median(values) for name, values in samples.items()}


def _provider_class(type_token: str) -> Any:
    """The SDK class for a type token, e.g. aws:lb/loadBalancer:LoadBalancer -> pulumi_aws.lb.LoadBalancer."""
    package, module_path, class_name = type_token.split(":")
    root = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes"}[package]
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


def floor_program(resources: list[CapturedResource]) -> tuple[Callable[[], None], int]:
    """A program declaring the same custom resources directly; returns it and the fallback count."""
    plans: list[tuple[Any, str, dict[str, Any]]] = []
    fallbacks = 0
    custom = [r for r in resources if r.custom and not r.type.startswith("pulumi:providers")]
    for index, resource in enumerate(custom):
        name = f"{resource.name}-{index}"
        try:
            cls = _provider_class(resource.type)
            names = _python_names(cls)
            kwargs = {names[key]: value for key, value in resource.props.items()} if names else None
        except (ImportError, AttributeError, KeyError, ValueError):
            kwargs = None
        if kwargs is None:
            fallbacks += 1
            plans.append((None, name, resource.props | {"__type": resource.type}))
        else:
            plans.append((cls, name, kwargs))

    def program() -> None:
        for cls, name, kwargs in plans:
            if cls is not None:
                try:
                    cls(name, **kwargs)
                    continue
                except TypeError:  # an input the mocks left empty; declare it generically
                    generic.append(name)
            props = dict(kwargs)
            pulumi.CustomResource(props.pop("__type", None) or _type_of[name], name, props)

    generic: list[str] = []
    _type_of = {name: r.type for name, r in zip((p[1] for p in plans), custom, strict=True)}
    return program, fallbacks


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


def _stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


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
    config = _stack_config(base_stack)
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
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stack", default="prod")
    args = parser.parse_args()
    console = Console()
    rows: list[tuple[str, str, str, str]] = []

    # 1. preview against the floor
    def full_preview(stack: str = args.stack, root: Path = ROOT) -> None:
        render_text(run_preview(stack, root=root).plan)

    captured = capture_program(
        lambda: __import__("runpy").run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        stack=args.stack, config=_stack_config(args.stack))
    program, fallbacks = floor_program(captured.resources)
    custom_count = sum(1 for r in captured.resources if r.custom)
    # Under the collector settings `relstack preview` runs with, for both: each sample then
    # leaves its garbage for later instead of paying for it at a moment that depends on
    # the counts it happened to end on.
    with rarer_collections():
        medians = _interleaved_medians({
            "preview": full_preview,
            "floor": lambda: capture_program(program, stack="floor", config=_stack_config(args.stack)),
        }, args.repeats)
    preview_s, floor_s = medians["preview"], medians["floor"]
    ratio = preview_s / floor_s
    rows.append(("preview/floor", f"{ratio:.2f}", f"≤ {TARGETS['preview/floor']}",
                 f"preview {preview_s:.2f} s, floor {floor_s:.2f} s ({custom_count} provider resources, "
                 f"{fallbacks} declared generically)"))

    # 2. scaling with services
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as large:
        projects = {5: _scaled_project(args.stack, 5, Path(small)), 50: _scaled_project(args.stack, 50, Path(large))}
        with rarer_collections():
            timings = {int(n): seconds for n, seconds in _interleaved_medians(
                {str(n): (lambda p=project, n=n: full_preview(f"bench{n}", p)) for n, project in projects.items()},
                max(1, args.repeats // 2)).items()}
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
            seconds = _median_seconds(lambda a=analyzer: a.analyze_many(next(batches)), args.repeats)
            stack_seconds = _median_seconds(lambda a=analyzer: a.analyze_stack(resources), args.repeats)
    throughput = size / seconds
    rows.append(("analyzer resources/s", f"{throughput:.0f}", f"≥ {TARGETS['analyzer resources/s']:.0f}",
                 f"{size} Analyze calls in {seconds:.2f} s; AnalyzeStack of {len(resources)} (analyzed before) in "
                 f"{stack_seconds * 1000:.0f} ms; pack start-up {statistics.median(starts) * 1000:.0f} ms"))

    table = Table(title=f"reliability-stack benchmarks (stack {args.stack}, median of {args.repeats})")
    for column in ("measure", "value", "target", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
