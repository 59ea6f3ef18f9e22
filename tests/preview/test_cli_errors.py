"""Bad input to `relstack preview`: exit 2, one line naming file and field, no traceback, no output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

RELSTACK = [sys.executable, "-m", "reliability_stack.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RELSTACK, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _project(tmp_path: Path, config: dict | str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: reliability-stack\nruntime: python\n")
    (tmp_path / "stacks").mkdir()
    text = config if isinstance(config, str) else yaml.safe_dump({"config": config})
    (tmp_path / "stacks" / "Pulumi.broken.yaml").write_text(text)
    return tmp_path


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


def test_unknown_stack(tmp_path):
    result = _run("preview", "--stack", "nosuchstack", "--project-dir", str(ROOT), cwd=tmp_path)
    _assert_one_line_error(result, "unknown stack 'nosuchstack'", "--stack")


def test_malformed_yaml(tmp_path):
    project = _project(tmp_path, "config:\n  reliability-stack:regions: [us-east-1\n")
    result = _run("preview", "--stack", "broken", cwd=project)
    _assert_one_line_error(result, "stacks/Pulumi.broken.yaml", "malformed YAML")


def test_invalid_field(tmp_path):
    project = _project(tmp_path, {"reliability-stack:environment": "staging"})
    output = tmp_path / "report.json"
    result = _run("preview", "--stack", "broken", "--format", "json", "--output", str(output), cwd=project)
    _assert_one_line_error(result, "stacks/Pulumi.broken.yaml", "reliability-stack:environment")
    assert not output.exists()


def test_missing_slo_file(tmp_path):
    config = yaml.safe_load((ROOT / "tests" / "config" / "valid_stack.yaml").read_text())["config"]
    config["reliability-stack:services"][0]["slos"] = ["slos/missing.yaml"]
    project = _project(tmp_path, config)
    result = _run("preview", "--stack", "broken", cwd=project)
    _assert_one_line_error(result, "stacks/Pulumi.broken.yaml", "reliability-stack:services[0].slos[0]",
                           "slos/missing.yaml")


def test_bad_format_is_a_usage_error(tmp_path):
    result = _run("preview", "--stack", "dev", "--format", "yaml", "--project-dir", str(ROOT), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
