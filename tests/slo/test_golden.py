"""Golden files: every spec in specs/good/ compiles to exactly tests/slo/golden/<name>.yml
(rules) and <name>.alertmanager.yml (inhibit rules); promtool accepts every rule file.

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/slo/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reliability_stack.slo.loaders import load_slo_file
from reliability_stack.slo.outputs import Target, compile_text

HERE = Path(__file__).parent
GOOD = sorted((HERE / "specs" / "good").glob("*.yaml"))
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def outputs(spec: Path) -> dict[Path, str]:
    loaded = load_slo_file(spec)
    source = [f"tests/slo/specs/good/{spec.name}"]
    return {GOLDEN / f"{spec.stem}.yml": compile_text(loaded, Target.prometheus, sources=source),
            GOLDEN / f"{spec.stem}.alertmanager.yml": compile_text(loaded, Target.alertmanager, sources=source)}


@pytest.mark.parametrize("spec", GOOD, ids=[p.stem for p in GOOD])
def test_compiled_output_matches_golden(spec: Path) -> None:
    for path, text in outputs(spec).items():
        if UPDATE:
            path.write_text(text, encoding="utf-8")
        assert path.is_file(), f"missing golden file {path.name}; run with UPDATE_GOLDEN=1"
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs; rerun with UPDATE_GOLDEN=1 if intended"


def test_no_stale_golden_files() -> None:
    expected = {p.name for spec in GOOD for p in outputs(spec)}
    assert {p.name for p in GOLDEN.glob("*.yml")} == expected


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_every_golden_rule_file() -> None:
    files = [GOLDEN / f"{spec.stem}.yml" for spec in GOOD]
    outcome = subprocess.run(["promtool", "check", "rules", *map(str, files)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert outcome.stdout.count("SUCCESS") == len(files)
