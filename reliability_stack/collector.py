"""Cyclic garbage-collector settings for the preview's processes, which allocate much and free little.

The mock runtime and the analyzer allocate millions of short-lived objects while their heaps
keep growing (captured resources, decoded properties), and each collector pass costs more
as the heap grows (15 ms a young pass on a 17k-resource stack, 4 ms on 1.7k): with the
default thresholds the passes took over half the capture time and grew faster than the
stack. A young generation of 100k objects made the GC of a 50-service preview 9.9 s -> 5.0 s
(20k before), and took the full collection out of the pack's `AnalyzeStack` on prod
(server side 60-70 ms -> 30-45 ms). A middle generation passed only after 1,000 young passes
(20 before) took its passes out of the preview altogether: each looks at every survivor of
the young passes since the last one (0.6-0.9 s on 50 services, four of them in a preview
that took 40.9 s, now 37.9 s), and cyclic garbage that outlives a young pass is little
(peak RSS 1464 vs 1466 MB).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def _rarer(thresholds: tuple[int, int, int]) -> tuple[int, int, int]:
    return max(thresholds[0], 100_000), max(thresholds[1], 1_000), max(thresholds[2], 1_000)


@contextlib.contextmanager
def rarer_collections() -> Iterator[None]:
    """Rarer passes, then the thresholds found on entry.

    A caller that goes on working with what it allocated (the benchmark renders each preview's
    plan) holds this for longer: restoring the defaults right after a capture makes the next
    allocation pay for a pass over everything the capture left.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(*_rarer(thresholds))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def freeze_for_exit() -> None:
    """For a process about to exit: what is on the heap goes with it, so spare it the collector.

    The interpreter's teardown runs full collector passes over everything still alive
    (pulumi_aws's modules, a preview's resources and plan): 1.6 s of a 5 s `relstack preview`
    of prod. Frozen objects are still freed as their references go, but no pass looks
    at them again.
    """
    gc.freeze()


def collect_rarely() -> None:
    """For the rest of a process that works until it ends: the analyzer, the session's worker, `relstack preview`.

    What is loaded by now (modules, the pack's policies) lives as long as the process:
    frozen, the oldest generation's rare passes skip it. Nothing is restored: the preview's
    report is the end of its process, and restoring the defaults sooner had the next
    allocation pay for a pass over everything the preview left (9 s of a 50-service
    `relstack preview`'s 50 s, after the report was out).
    """
    gc.freeze()
    gc.set_threshold(*_rarer(gc.get_threshold()))
