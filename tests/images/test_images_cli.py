"""`relstack images check`: exit 0 on a fit lock, exit 2 listing every problem otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from reliability_stack.cli.main import app
from tests.images.test_lock import lock_document

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _service(name: str, platform: str = "ec2", image: str | None = None) -> dict:
    return {"name": name, "platform": platform, "image": image or name, "domain": f"{name}.example.com",
            "hosted_zone": "example.com", "runbook_url": f"https://runbooks.example.com/{name}",
            "database": {"engine": "dynamodb"}}


def _project(tmp_path: Path, stacks: dict[str, tuple[list[str], list[dict]]], lock: dict | None = None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: reliability-stack\nruntime: python\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "images.lock.json").write_text(json.dumps(lock or lock_document()))
    for stack, (regions, services) in stacks.items():
        # a multi-region Kubernetes service names one cluster per region
        services = [{**s, "kubernetes": {"contexts": {r: f"{stack}-{r}" for r in regions}}}
                    if s["platform"] == "kubernetes" else s for s in services]
        config = {
            "reliability-stack:environment": "prod" if len(regions) > 1 else "dev",
            "reliability-stack:regions": regions,
            "reliability-stack:alerting": {"page": [{"protocol": "email", "endpoint": "a@example.com"}],
                                           "ticket": [{"protocol": "email", "endpoint": "b@example.com"}]},
            "reliability-stack:services": services,
        }
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def _check(project: Path, *args: str):
    return runner.invoke(app, ["images", "check", "--project-dir", str(project), *args])


def test_fit_lock_passes_and_shows_who_uses_what(tmp_path):
    project = _project(tmp_path, {
        "dev": (["us-east-1"], [_service("checkout")]),
        "prod": (["us-east-1", "us-west-2"], [_service("checkout"), _service("web", "kubernetes", "checkout")]),
    })
    result = _check(project)
    assert result.exit_code == 0, result.output
    assert "image lock OK (dev, prod)" in result.stdout
    assert "prod/web" in result.stdout and "dev/checkout" in result.stdout


def test_missing_region_and_unknown_image_exit_2_with_one_line_each(tmp_path):
    project = _project(tmp_path, {
        "dev": (["us-east-1"], [_service("checkout")]),
        "eu": (["eu-central-1", "us-east-1"], [_service("checkout"), _service("search", "kubernetes")]),
    })
    result = _check(project)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.stderr
    assert "containers.search: unknown container image 'search' (used by eu/search)" in errors[0]
    assert "amis.checkout.regions.eu-central-1: no AMI for region 'eu-central-1' (used by eu/checkout)" in errors[1]
    assert "images.lock.json" in errors[0]
    assert "Traceback" not in result.output


def test_only_the_named_stacks_are_checked(tmp_path):
    project = _project(tmp_path, {
        "dev": (["us-east-1"], [_service("checkout")]),
        "eu": (["eu-central-1", "us-east-1"], [_service("checkout")]),
    })
    assert _check(project, "--stack", "dev").exit_code == 0
    assert _check(project, "--stack", "eu").exit_code == 2


def test_a_malformed_lock_is_exit_2_naming_the_field(tmp_path):
    lock = lock_document()
    lock["containers"]["checkout"]["reference"] = "registry.example.com/checkout:latest"
    project = _project(tmp_path, {"dev": (["us-east-1"], [_service("checkout")])}, lock=lock)
    result = _check(project)
    assert result.exit_code == 2
    assert "containers.checkout.reference: 'latest' is a moving tag" in result.stderr
    assert "Traceback" not in result.output


def test_the_repository_lock_fits_the_repository_stacks():
    result = _check(ROOT)
    assert result.exit_code == 0, result.output
