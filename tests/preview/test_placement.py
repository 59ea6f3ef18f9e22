"""Where the pack and the worker run while the program does: the choice, and moving a whole process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reliability_stack.preview import placement
from reliability_stack.preview.placement import Placement, choose, has_core_to_spare
from tests.preview.cores import TWO_CORES, thread_affinities


@pytest.mark.parametrize(("usable_cpus", "other_runnable", "expected"), [
    (2, 0, True),   # a core beside the program's is free
    (2, 1, False),  # someone else has it: confined and lowered, the analysis would wait behind them
    (1, 0, False),  # the program's core is the only one
    (8, 6, True),
    (8, 6.5, False),
])
def test_a_core_is_spare_only_when_the_others_runnable_leave_one_beside_the_programs(
        usable_cpus, other_runnable, expected):
    assert has_core_to_spare(usable_cpus, other_runnable) is expected


def test_the_program_keeps_the_core_it_runs_on_and_the_processes_get_the_others():
    assert choose(frozenset({0, 1, 2, 3}), 2, 0) == Placement(2, frozenset({0, 1, 3}))
    assert choose(frozenset({0, 1, 2, 3}), 2, 0).every == {0, 1, 2, 3}


def test_a_program_on_a_core_it_may_not_use_any_more_is_given_the_first_usable_one():
    assert choose(frozenset({4, 5}), 0, 0) == Placement(4, frozenset({5}))
    assert choose(frozenset({4, 5}), None, 0) == Placement(4, frozenset({5}))  # not Linux: no current core


def test_no_placement_on_a_busy_or_single_core_machine():
    assert choose(frozenset({0, 1}), 0, 1) is None
    assert choose(frozenset({0}), 0, 0) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_current_core_is_one_this_thread_may_use():
    assert placement.current_cpu() in os.sched_getaffinity(0)


@pytest.mark.skipif(not TWO_CORES, reason="needs two usable cores")
def test_moving_a_process_moves_every_thread_it_has_and_starts():
    code = ("import threading, time, sys\n"
            "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
            "print(flush=True); sys.stdin.readline()\n"
            "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
            "print(flush=True); time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdout.readline()  # its first thread runs
        target = frozenset({max(os.sched_getaffinity(0))})
        placement.move_process(child.pid, target)
        child.stdin.write(b"\n")
        child.stdin.flush()
        child.stdout.readline()  # its second thread, started after the move, runs
        threads = os.listdir(f"/proc/{child.pid}/task")
        assert len(threads) == 3
        assert thread_affinities(child.pid) == {target}
    finally:
        child.kill()
        child.wait()


def test_moving_a_process_that_is_gone_is_not_an_error():
    with open("/proc/sys/kernel/pid_max") if sys.platform.startswith("linux") else open(os.devnull) as pid_max:
        no_such_pid = int(pid_max.read() or 4_194_304) + 1
    placement.move_process(no_such_pid, frozenset({0}))
