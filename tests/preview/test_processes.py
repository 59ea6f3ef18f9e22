"""Child processes are read as soon as they close their pipes, and stopped without waiting on the kernel."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from reliability_stack.preview.processes import read_until_closed, stop_soon


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_output_is_read_once_the_child_closes_its_pipes_while_it_still_runs():
    child = _child("import os, sys, time\nsys.stdout.write('verdict'); sys.stdout.flush()\n"
                   "os.close(1); os.close(2)\ntime.sleep(30)")
    try:
        assert read_until_closed(child, timeout=20) == (b"verdict", b"")
        assert child.poll() is None  # still sleeping: its exit was not waited for
    finally:
        stop_soon(child)


def test_much_written_to_stderr_does_not_block_the_verdict_on_stdout():
    child = _child("import sys\nsys.stderr.write('w' * 1_000_000); sys.stderr.flush()\nprint('verdict')")
    out, err = read_until_closed(child, timeout=20)
    assert (out, len(err)) == (b"verdict\n", 1_000_000)
    stop_soon(child)


def test_a_child_that_keeps_its_pipes_open_times_out():
    child = _child("import time\ntime.sleep(30)")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            read_until_closed(child, timeout=0.2)
    finally:
        stop_soon(child)


def test_a_stopped_child_is_killed_and_reaped_in_the_background():
    child = _child("import time\ntime.sleep(30)")
    stop_soon(child)
    assert all(stream.closed for stream in (child.stdin, child.stdout, child.stderr))
    deadline = time.monotonic() + 10
    while child.returncode is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.returncode == -9  # SIGKILL, collected by the reaper thread (we never waited)
