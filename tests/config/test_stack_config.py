"""Stack config: one loader, errors that name the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from reliability_stack.config import load_stack_config
from reliability_stack.errors import ConfigError

VALID = yaml.safe_load((Path(__file__).parent / "valid_stack.yaml").read_text())["config"]


def _write(root: Path, stack: str, config: dict | str) -> None:
    (root / "stacks").mkdir(exist_ok=True)
    text = config if isinstance(config, str) else yaml.safe_dump({"config": config})
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)


def _with(path: str, value):
    config = copy.deepcopy(VALID)
    key, *rest = path.split(".")
    target = config
    full_key = f"reliability-stack:{key}" if not key.startswith("aws:") else key
    if not rest:
        target[full_key] = value
        return config
    node = target[full_key]
    for part in rest[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = rest[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


def test_valid_config_loads_with_resilient_defaults(tmp_path):
    _write(tmp_path, "dev", VALID)
    config = load_stack_config(tmp_path, "dev")
    service = config.services[0]
    assert config.availability_zones == 3
    assert service.scaling.min_size >= 2 and service.scaling.max_size > service.scaling.min_size
    assert service.cache.replicas_per_shard >= 1
    assert service.database.backup_retention_days >= 7


@pytest.mark.parametrize(("mutation", "field", "reason"), [
    (("services.0.scaling", {"min_size": 4, "max_size": 4}), "reliability-stack:services[0].scaling.max_size",
     "max_size must be greater than min_size"),
    (("services.0.name", "Checkout_Service"), "reliability-stack:services[0].name", "should match pattern"),
    (("services.0.runbook_url", "http://runbooks"), "reliability-stack:services[0].runbook_url", "should match"),
    (("services.0.colour", "blue"), "reliability-stack:services[0].colour", "Extra inputs are not permitted"),
    (("regions", ["us-east-1", "us-east-1"]), "reliability-stack:regions", "regions must be distinct"),
    (("regions", ["mars-1"]), "reliability-stack:regions[0]", "should match pattern"),
    (("environment", "prod"), "reliability-stack:regions", "two or more regions"),
    (("alerting", {"page": [], "ticket": [{"protocol": "email", "endpoint": "a@b.c"}]}),
     "reliability-stack:alerting.page", "at least 1 item"),
    (("services", []), "reliability-stack:services", "at least 1 item"),
])
def test_invalid_values_name_the_file_and_field(tmp_path, mutation, field, reason):
    _write(tmp_path, "dev", _with(*mutation))
    with pytest.raises(ConfigError) as caught:
        load_stack_config(tmp_path, "dev")
    assert caught.value.file == "stacks/Pulumi.dev.yaml"
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_duplicate_service_names_are_rejected(tmp_path):
    config = copy.deepcopy(VALID)
    config["reliability-stack:services"].append(copy.deepcopy(config["reliability-stack:services"][0]))
    _write(tmp_path, "dev", config)
    with pytest.raises(ConfigError, match="duplicate service names: checkout"):
        load_stack_config(tmp_path, "dev")


def test_unknown_project_key_is_rejected(tmp_path):
    config = {**VALID, "reliability-stack:servics": []}
    _write(tmp_path, "dev", config)
    with pytest.raises(ConfigError) as caught:
        load_stack_config(tmp_path, "dev")
    assert caught.value.field == "reliability-stack:servics"


def test_malformed_yaml_names_the_line(tmp_path):
    _write(tmp_path, "dev", "config:\n  aws:region: [us-east-1\n")
    with pytest.raises(ConfigError) as caught:
        load_stack_config(tmp_path, "dev")
    assert caught.value.field and caught.value.field.startswith("line ")
    assert "malformed YAML" in str(caught.value)


def test_unknown_stack_lists_the_known_ones(tmp_path):
    _write(tmp_path, "dev", VALID)
    with pytest.raises(ConfigError, match=r"unknown stack 'qa' \(known: dev\)"):
        load_stack_config(tmp_path, "qa")


def test_stack_names_cannot_escape_the_stacks_folder(tmp_path):
    with pytest.raises(ConfigError, match="invalid stack name"):
        load_stack_config(tmp_path, "../etc/passwd")


def test_default_vpc_cidrs_never_overlap_pinned_ones(tmp_path):
    config = copy.deepcopy(VALID)
    first = config["reliability-stack:services"][0]
    second = {**copy.deepcopy(first), "name": "orders", "domain": "orders.example.com"}
    # The second service's default is 10.8.0.0/16; pinning the first there must be refused.
    first["vpc_cidrs"] = {"us-east-1": "10.8.0.0/16"}
    config["reliability-stack:services"].append(second)
    _write(tmp_path, "dev", config)
    with pytest.raises(ConfigError, match=r"services\[1\]\.vpc_cidrs\.us-east-1: 10\.8\.0\.0/16 overlaps services\[0\]"):
        load_stack_config(tmp_path, "dev")


def test_more_services_than_the_default_plan_need_pinned_cidrs(tmp_path):
    config = copy.deepcopy(VALID)
    template = config["reliability-stack:services"][0]
    config["reliability-stack:services"] = [
        {**copy.deepcopy(template), "name": f"svc-{i}", "domain": f"svc-{i}.example.com"} for i in range(33)]
    _write(tmp_path, "dev", config)
    with pytest.raises(ConfigError, match=r"services\[32\]\.vpc_cidrs\.us-east-1: the default plan covers 32"):
        load_stack_config(tmp_path, "dev")
    config["reliability-stack:services"][32]["vpc_cidrs"] = {"us-east-1": "172.16.0.0/16"}
    _write(tmp_path, "dev", config)
    assert load_stack_config(tmp_path, "dev").vpc_cidr(32, "us-east-1") == "172.16.0.0/16"
