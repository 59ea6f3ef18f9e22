"""Reuse by another stack: install reliability-stack (non-editable) into a throwaway
environment, and run a separate consumer program that declares a ReliableService from two
lines of stack config, under the mock runtime.

The expensive part (the install) runs once per module; every test reads the one capture.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from tests.assertions import find, one

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STATEFUL = ("aws:elasticache/replicationGroup:ReplicationGroup", "aws:rds/cluster:Cluster",
            "aws:rds/clusterInstance:ClusterInstance", "aws:dynamodb/table:Table")


def copy_package_sources(destination: Path) -> None:
    """Copy exactly what pyproject.toml builds from: itself, its readme and every mapped package dir."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    destination.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", destination)
    shutil.copy2(ROOT / pyproject["project"]["readme"], destination)
    for folder in sorted(set(pyproject["tool"]["setuptools"]["package-dir"].values())):
        shutil.copytree(ROOT / folder, destination / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def make_environment(base: Path) -> Path:
    """A venv that sees the project's installed dependencies but not its editable package."""
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # --system-site-packages reaches the base interpreter, not the project venv: chain the
    # project venv's site-packages as a plain path. Its .pth files (the editable install's
    # finder among them) are not processed, so `reliability_stack` resolves only to the copy
    # installed below.
    Path(site, "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def install_flags() -> list[str]:
    # --no-build-isolation builds with this environment's setuptools; that needs one that reads
    # the PEP 639 `license = "Apache-2.0"` string (setuptools >= 77). An older one falls back to
    # pip's isolated build, which takes setuptools from the configured package index.
    major = int(metadata.version("setuptools").split(".", 1)[0])
    return ["--no-build-isolation"] if major >= 77 else []


@pytest.fixture(scope="module")
def consumer(tmp_path_factory):
    base = tmp_path_factory.mktemp("reuse")
    python = make_environment(base)
    copy_package_sources(base / "src")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
         "--disable-pip-version-check", *install_flags(), str(base / "src")],
        capture_output=True, text=True, env=env, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]

    project = base / "consumer"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    # The two lines of config that declare the whole service.
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  consumer:service: orders\n  consumer:domain: orders.example.com\n")
    shutil.copy2(HERE / "consumer_program.py", project / "__main__.py")
    run = subprocess.run([str(python), str(HERE / "run_under_mocks.py"), str(project), "dev"],
                         capture_output=True, text=True, env=env, cwd=project, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return {"python": python, "base": base, **json.loads(run.stdout.splitlines()[-1])}


def test_the_package_comes_from_the_throwaway_environment_not_the_work_tree(consumer):
    package = Path(consumer["package_file"]).resolve()
    assert package.is_relative_to(consumer["base"] / "venv")
    installed = package.parent
    # The folder mapping put components/ inside the one import name, non-editable.
    assert (installed / "components" / "reliable_service.py").is_file()
    assert (installed / "components" / "cache_tier.py").is_file()
    assert not any(installed.glob("*.pth"))


def test_two_lines_of_config_declare_a_whole_reliable_service(consumer):
    resources = consumer["resources"]
    service = one(_as_captured(resources), "reliability-stack:reliable_service:ReliableService")
    assert service.name == "orders" and consumer["exports"] == {"service": "orders"}
    assert all(":dev::consumer::" in r["urn"] for r in resources)
    types = {r["type"] for r in resources}
    assert {"reliability-stack:cache_tier:CacheTier", "reliability-stack:regional_database:RegionalDatabase",
            "aws:lb/loadBalancer:LoadBalancer", "aws:autoscaling/group:Group",
            "aws:cloudfront/distribution:Distribution"} <= types
    certificates = find(_as_captured(resources), "aws:acm/certificate:Certificate")
    assert any(c.props.get("domainName") == "orders.example.com" for c in certificates)


def test_consumer_gets_resilient_stateful_resources(consumer):
    captured = _as_captured(consumer["resources"])
    stateful = [r for r in captured if r.type in STATEFUL]
    assert stateful and [r.name for r in stateful if not r.options["protect"]] == []
    one(captured, "aws:elasticache/replicationGroup:ReplicationGroup", multiAzEnabled=True,
        automaticFailoverEnabled=True, transitEncryptionMode="required",
        tags={"reliability-stack:stack": "dev", "reliability-stack:service": "orders"})
    one(captured, "aws:rds/cluster:Cluster", deletionProtection=True, storageEncrypted=True)


def _as_captured(resources):
    from reliability_stack.preview.capture import CapturedResource

    return [CapturedResource(**r) for r in resources]
