"""Where the engine-side processes (the policy pack and its worker) run while the program does.

The stack program is the preview's critical path: it runs in the preview's own process and
never uses more than one core at a time (its threads take turns on the interpreter lock).
When the machine has a core to spare besides the program's, the pack and the worker are
kept off the core the preview runs on, and below the program in priority. With the lower
priority alone the kernel still put them on the program's core at times (probably where a
woken program thread then waited for their time slice to end): kept off it, prod's preview
took 0.94x the time (the median ratio of alternating runs, 0.941 over 25 rounds and 0.943
over 40, on two cores). When the program ends they get every core back, for the analysis
of the whole stack. The program itself is not pinned: on one core its threads wake each
other without crossing cores, which made the program alone 11-15% faster, but not the
program in a preview (medians of 15 rounds: 1066 ms pinned, 1043 ms not).

On a busy machine the placement is left to the kernel: lowered and confined, the analysis
would wait behind every other process once the program ends and waits for it. Linux only;
elsewhere the processes keep their cores and only their priority is lowered.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """The core left to the program, and the cores the engine-side processes use while it runs."""

    program: int
    engine: frozenset[int]

    @property
    def every(self) -> frozenset[int]:
        return self.engine | {self.program}


def has_core_to_spare(usable_cpus: int, other_runnable: float) -> bool:
    """Whether a core besides the program's is free for the engine-side processes.

    Lowered in priority, they then never take the program's core from it (prod's preview 1.57 s
    -> 1.33 s on two idle cores). On a busy machine a lowered priority leaves them behind every
    other process once the program ends and waits for them (5.6-6.6 s instead of 2.7-3.2 s with
    two CPU-bound processes on two cores), so there they keep theirs.
    """
    return usable_cpus >= 2 and other_runnable <= usable_cpus - 2


def choose(usable: frozenset[int], current: int | None, other_runnable: float) -> Placement | None:
    """The placement for a program running on core `current`, or None when no core is spare."""
    if not has_core_to_spare(len(usable), other_runnable):
        return None
    program = current if current in usable else min(usable)
    return Placement(program, usable - {program})


def placement_now(runnable_before: float) -> Placement | None:
    """`choose` for this machine now; `runnable_before` is a count sampled earlier.

    The lower of the two counts decides: a task runnable at one of the two moments only (a
    kernel thread's turn, the last preview's processes exiting) does not hold a core.
    """
    return choose(usable_cpus(), current_cpu(), min(runnable_before, other_runnable_tasks()))


def move_process(pid: int, cpus: frozenset[int]) -> None:
    """Every thread of process `pid` onto `cpus` (the threads it starts later inherit its own)."""
    try:
        threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:  # not Linux, or the process is gone
        threads = [pid]
    for tid in threads:
        with contextlib.suppress(AttributeError, OSError):  # not Linux, a thread that ended, or not allowed
            os.sched_setaffinity(tid, cpus)


def usable_cpus() -> frozenset[int]:
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return frozenset(range(os.cpu_count() or 1))


def current_cpu() -> int | None:
    """The core the calling thread runs on (Linux), else None."""
    try:
        with open("/proc/thread-self/stat", encoding="ascii") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[36])  # field 39, "processor"
    except (OSError, ValueError, IndexError):
        return None


def other_runnable_tasks() -> float:
    """Tasks runnable now besides this one (Linux), else the 1-minute load average."""
    try:
        with open("/proc/loadavg", encoding="ascii") as stats:  # "0.41 0.43 0.40 2/77 1234"
            return int(stats.read().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return float("inf")
