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
entry, sys.argv = sys.argv[1], ["relstack", *sys.argv[2:]]
if entry == "console-script":  # what pip's `relstack` wrapper runs
    from reliability_stack.cli.main import main
    main()
else:  # python -m reliability_stack.cli
    runpy.run_module("reliability_stack.cli", run_name="__main__", alter_sys=True)
"""


def _frozen_and_exit_code(entry: str, *args: str) -> tuple[int, int]:
    result = subprocess.run([sys.executable, "-c", PROBE, entry, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    frozen = [int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("frozen ")]
    assert len(frozen) == 1, result.stderr
    return frozen[0], result.returncode


@pytest.mark.parametrize("entry", ["console-script", "python -m"])
def test_the_heap_is_frozen_at_exit_and_the_exit_code_kept(entry):
    # Every command loads at least the CLI, typer and rich: far more than this many objects.
    assert _frozen_and_exit_code(entry, "--help") >= (10_000, 0)
    frozen, code = _frozen_and_exit_code(entry, "preview", "--stack", "no-such-stack")
    assert code == 2 and frozen >= 10_000


def test_the_console_script_is_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["relstack"] == "reliability_stack.cli.main:main"
