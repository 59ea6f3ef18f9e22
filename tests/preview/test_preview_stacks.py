"""`relstack preview` on the reference stacks and on a stack with an injected violation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
RELSTACK = [sys.executable, "-m", "reliability_stack.cli"]
SCHEMA = json.loads((ROOT / "reliability_stack" / "preview" / "plan.schema.json").read_text())
OPTION_KEYS = {"protect", "retainOnDelete", "ignoreChanges", "deleteBeforeReplace", "replaceOnChanges",
               "dependsOn", "customTimeouts", "provider"}


def _preview(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RELSTACK, "preview", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("plan") / "prod.json"
    result = _preview("--stack", "prod", "--format", "json", "--output", str(output))
    assert result.returncode == 0, result.stderr + output.read_text()[-2000:] if output.exists() else result.stderr
    return json.loads(output.read_text())


def test_prod_plan_validates_against_the_committed_schema(prod_plan):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(prod_plan)
    assert prod_plan["stack"] == "prod" and prod_plan["project"] == "reliability-stack"


def test_every_resource_carries_its_options(prod_plan):
    assert len(prod_plan["resources"]) > 100
    for resource in prod_plan["resources"]:
        assert set(resource["options"]) == OPTION_KEYS, resource["urn"]
    protected = [r for r in prod_plan["resources"] if r["options"]["protect"]]
    assert protected, "stateful resources are declared with protect"


def test_prod_has_no_unprotected_state_no_warnings_and_no_mandatory_violations(prod_plan):
    summary = prod_plan["summary"]
    assert summary["statefulResources"] > 0
    assert summary["statefulUnprotected"] == []
    assert summary["mandatoryViolations"] == 0
    assert not [w for w in prod_plan["warnings"] if "deprecated" in w.lower()]


def test_prod_plan_carries_the_slo_alert_plan(prod_plan):
    services = {slo["service"] for slo in prod_plan["slos"]}
    assert {"checkout", "catalog"} <= services
    for slo in prod_plan["slos"]:
        assert slo["errorBudget"]["ratio"] == pytest.approx(1 - slo["objective"] / 100)
        assert any(alert["severity"] == "page" for alert in slo["alerts"])


def test_dev_text_report_shows_tree_and_policy_results():
    result = _preview("--stack", "dev")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "reliability-stack / dev" in result.stdout
    assert "reliability-stack:reliable_service:ReliableService checkout" in result.stdout
    assert "Policy pack reliability-stack" in result.stdout
    assert "mandatory: 0 violation(s)" in result.stdout
    assert "Result: clean" in result.stdout


INJECTED_PROGRAM = '''
import pulumi
import pulumi_aws as aws

# A database cluster declared without the component: no deletion protection, no backups,
# no protect. The pack must block it.
aws.rds.Cluster("orders", engine="aurora-postgresql", master_username="app",
                manage_master_user_password=True, backup_retention_period=1,
                deletion_protection=False, storage_encrypted=False, skip_final_snapshot=True)
'''


def test_an_injected_violation_exits_1_and_names_the_policy(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: reliability-stack\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(INJECTED_PROGRAM)
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.injected.yaml").write_text((ROOT / "tests" / "config" / "valid_stack.yaml").read_text())
    report = tmp_path / "report.md"
    result = _preview("--stack", "injected", "--format", "markdown", "--output", str(report), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    markdown = report.read_text()
    assert markdown.startswith("## ❌")
    assert "aws:Cluster orders" in markdown
    assert "<details open><summary><b>mandatory</b> violations" in markdown


def test_policy_config_is_per_stack_and_prod_is_stricter_than_dev():
    # dev's config relaxes what a short-lived stack does not need; prod's thresholds block dev.
    relaxed = _preview("--stack", "dev", "--format", "json")
    strict = _preview("--stack", "dev", "--format", "json", "--policy-pack-config", "stacks/policy-config.prod.json")
    assert relaxed.returncode == 0
    assert strict.returncode == 1
    mandatory = {v["policy"] for v in json.loads(strict.stdout)["policies"]["violations"]
                 if v["enforcementLevel"] == "mandatory"}
    assert "aws-database-backups" in mandatory
