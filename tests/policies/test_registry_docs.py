"""Policy metadata is complete and consistent, and the README tables are generated from it."""

from __future__ import annotations

import re
import shutil

import jsonschema
import pytest
from typer.testing import CliRunner

from reliability_stack.cli.main import app
from reliability_stack.cli.policies_cmd import README
from reliability_stack.policies.coverage import BEGIN, END, NOT_COVERED, render_readme, uncovered
from reliability_stack.policies.registry import TECHNIQUES, all_rules, resource_rule

RULES = all_rules()


def test_ids_are_stable_kebab_case_and_unique():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", i) for i in ids), ids


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_policy_documents_itself(rule):
    assert rule.description.endswith(".") and len(rule.description) > 20
    assert len(rule.remediation) > 20
    assert rule.anchors, "every policy names the anchor rules it covers"
    assert set(rule.techniques) <= set(TECHNIQUES)
    assert rule.enforcement in ("advisory", "mandatory")
    assert rule.kind == "stack" or rule.resource_types or rule.type_prefixes
    schema = {"type": "object", "properties": {k: dict(v) for k, v in rule.config.items()}}
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(rule.defaults(), schema)


def test_a_duplicate_policy_id_is_rejected():
    with pytest.raises(ValueError, match="duplicate policy id"):
        resource_rule(id=RULES[0].id, description="x.", remediation="y", anchors=["K1"], techniques=["RES"],
                      types=["t"])(lambda r, c: iter(()))


def test_every_catalogue_row_is_covered_or_explained():
    assert sorted(uncovered(RULES)) == sorted(NOT_COVERED)


def test_readme_coverage_section_is_current():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert render_readme(text, RULES) == text, "run `relstack policies docs`"
    for rule in RULES:
        assert f"`{rule.id}`" in text


def test_docs_command_checks_and_rewrites(tmp_path):
    stale = tmp_path / "README.md"
    shutil.copy(README, stale)
    stale.write_text(stale.read_text().replace("`k8s-workload-probes`", "`renamed`", 1))
    runner = CliRunner()
    assert runner.invoke(app, ["policies", "docs", "--check", "--readme", str(stale)]).exit_code == 1
    assert runner.invoke(app, ["policies", "docs", "--readme", str(stale)]).exit_code == 0
    assert stale.read_text() == README.read_text()
    assert runner.invoke(app, ["policies", "docs", "--check", "--readme", str(stale)]).exit_code == 0


def test_missing_readme_is_bad_input(tmp_path):
    result = CliRunner().invoke(app, ["policies", "docs", "--readme", str(tmp_path / "nope.md")])
    assert result.exit_code == 2
