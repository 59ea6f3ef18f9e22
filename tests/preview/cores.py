"""What the placement tests read of a process: its threads' cores (Linux)."""

from __future__ import annotations

import os

TWO_CORES = len(os.sched_getaffinity(0)) >= 2


def thread_affinities(pid: int) -> set[frozenset[int]]:
    """The distinct core sets of the threads of process `pid`."""
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}
