"""The benchmark's floor declares the program's provider resources, linked as the program links them."""

from __future__ import annotations

import functools
import importlib.util
import random
import runpy
import statistics
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from reliability_stack.preview.analyzer import provider_urn
from reliability_stack.preview.capture import capture_program

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def program_and_floors():
    bench = _bench_module()
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    program = capture_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                              stack="prod", config=config)
    floors = {linked: capture_program(bench.floor_program(program.resources, linked=linked)[0],
                                      stack="floor", config=config) for linked in (True, False)}
    return program, floors


def _originals(program, floor):
    """Floor URN -> the program's URN it stands for: the floor names each `<name>-<position>`."""
    order = _bench_module()._dependencies_first([r for r in program.resources if r.custom])  # noqa: SLF001
    originals = {}
    for resource in floor.resources:
        name, position = resource.name.rsplit("-", 1)
        original = order[int(position)]
        assert (original.type, original.name) == (resource.type, name)
        originals[resource.urn] = original.urn
    return originals


def test_the_floor_holds_the_programs_provider_resources_and_no_components(program_and_floors):
    program, floors = program_and_floors
    expected = Counter(r.type for r in program.resources if r.custom)
    assert any(t.startswith("pulumi:providers:") for t in expected)
    for floor in floors.values():
        assert Counter(r.type for r in floor.resources) == expected
        assert all(r.custom and r.parent == floor.stack_urn for r in floor.resources)


def test_the_linked_floor_keeps_options_and_references(program_and_floors):
    program, floors = program_and_floors
    floor = floors[True]
    original = _originals(program, floor)
    by_urn = {r.urn: r for r in program.resources}
    linked = 0
    for resource in floor.resources:
        source = by_urn[original[resource.urn]]
        assert set(resource.props) == set(source.props)
        for key in ("protect", "retainOnDelete", "ignoreChanges", "deleteBeforeReplace", "replaceOnChanges",
                    "customTimeouts"):
            assert resource.options[key] == source.options[key], (resource.urn, key)
        assert {original[u] for u in resource.options["dependsOn"]} == set(source.options["dependsOn"])
        assert ({k: {original[u] for u in v} for k, v in resource.property_dependencies.items()}
                == {k: set(v) for k, v in source.property_dependencies.items()}), resource.urn
        provider = provider_urn(resource.options)
        assert (original[provider] if provider else None) == provider_urn(source.options)
        linked += bool(resource.property_dependencies)
    assert linked > len(floor.resources) // 4, "most of a real stack's resources refer to others"


def test_the_unlinked_floor_has_values_only(program_and_floors):
    _, floors = program_and_floors
    assert not any(r.options["dependsOn"] or r.options["protect"] or r.options["provider"]
                   for r in floors[False].resources)


def test_round_ratio_quartiles_pair_the_samples_of_one_round():
    # Rounds 2 and 4 ran on a slow machine: both sides slowed alike, and their ratios stay put.
    preview = [1.2, 2.4, 1.3, 2.6, 1.25]
    floor = [1.0, 2.0, 1.0, 2.0, 1.0]
    assert _bench_module().round_ratio_quartiles(preview, floor) == pytest.approx([1.2, 1.25, 1.3])
    with pytest.raises(ValueError):  # a sample missing on one side breaks the pairing
        _bench_module().round_ratio_quartiles(preview, floor[:-1])


def test_ratio_interval_keeps_each_rounds_pair_together():
    bench = _bench_module()
    # The machine's speed swings between rounds, but the preview is always 1.2x the floor:
    # resampling whole rounds leaves no doubt about the ratio. Drawing either side's samples
    # on their own would mix slow previews with fast floors.
    floor = [1.0, 2.0, 1.1, 1.9, 1.05, 2.1, 0.95, 1.5]
    preview = [1.2 * seconds for seconds in floor]
    assert bench.ratio_interval(preview, floor) == pytest.approx((1.2, 1.2))
    with pytest.raises(ValueError):
        bench.ratio_interval(preview, floor[:-1])


def test_ratio_interval_brackets_the_ratio_and_narrows_with_more_rounds():
    bench = _bench_module()
    noise = random.Random(7)
    floor = [noise.uniform(0.85, 1.0) for _ in range(160)]
    preview = [seconds * noise.uniform(1.05, 1.45) for seconds in floor]

    def width(rounds):
        low, high = bench.ratio_interval(preview[:rounds], floor[:rounds])
        ratio = statistics.median(preview[:rounds]) / statistics.median(floor[:rounds])
        assert low < ratio < high
        return high - low

    assert width(160) < width(40) < width(10)
    assert bench.ratio_interval(preview, floor) == bench.ratio_interval(preview, floor)  # seeded
