"""`relstack` exits without the interpreter's teardown passing the collector over everything it loaded."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The atexit hook runs after the command is done, just before the interpreter's teardown,
# and reports how much of the heap the collector skips.
PROBE = """
import atexit, gc, runpy, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
atexit.register(lambda: print("thresholds", *gc.get_threshold(), file=sys.stderr))
entry, sys.argv = sys.argv[1], ["relstack", *sys.argv[2:]]
if entry == "console-script":  # what pip's `relstack` wrapper runs
    from reliability_stack.cli.main import main
    main()
else:  # python -m reliability_stack.cli
    runpy.run_module("reliability_stack.cli", run_name="__main__", alter_sys=True)
"""


def _at_exit(entry: str, *args: str) -> tuple[dict[str, list[int]], int]:
    """What the probe printed at exit (`frozen`, `thresholds`), and the exit code."""
    result = subprocess.run([sys.executable, "-c", PROBE, entry, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    printed = {line.split()[0]: [int(word) for word in line.split()[1:]] for line in result.stderr.splitlines()
               if line.startswith(("frozen ", "thresholds "))}
    assert set(printed) == {"frozen", "thresholds"}, result.stderr
    return printed, result.returncode


@pytest.mark.parametrize("entry", ["console-script", "python -m"])
@pytest.mark.parametrize(("args", "exit_code"), [(["--help"], 0), (["preview", "--stack", "no-such-stack"], 2)])
def test_the_heap_is_frozen_at_exit_and_the_exit_code_kept(entry, args, exit_code):
    printed, code = _at_exit(entry, *args)
    assert code == exit_code
    # Every command loads at least the CLI, typer and rich: far more than this many objects.
    assert printed["frozen"][0] >= 10_000


def test_the_console_script_is_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["relstack"] == "reliability_stack.cli.main:main"


def test_a_preview_keeps_rare_collector_passes_until_its_process_exits():
    # Restored after the report, the defaults had the next allocation pay for a pass over
    # everything the preview left (9 s of a 50-service preview's 50 s).
    printed, code = _at_exit("console-script", "preview", "--stack", "dev", "--format", "json")
    young, middle, _ = printed["thresholds"]
    assert code == 0
    assert young >= 100_000 and middle >= 1_000
