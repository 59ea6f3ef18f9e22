"""The image lock: resolution, and every way a lock or a lookup can be wrong, with its message."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from reliability_stack.config import parse_stack_config
from reliability_stack.errors import ImageLockError, InputError
from reliability_stack.images import (
    LOCK_FILE,
    check_lock,
    container_reference_problem,
    load_lock,
    parse_lock,
    requirements_of,
    resolve_ami,
    resolve_container,
)

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "0123456789abcdef" * 4
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def lock_document() -> dict:
    return {
        "version": 1,
        "containers": {
            "checkout": {"reference": f"{REGISTRY}/shop/checkout@{DIGEST}", "source": "images/service/Containerfile"},
        },
        "amis": {
            "checkout": {"regions": {"us-east-1": "ami-0123456789abcdef0", "us-west-2": "ami-0fedcba9876543210"},
                         "source": "images/ami/service.pkr.hcl"},
        },
    }


# --- resolution ---------------------------------------------------------------------------

def test_repository_lock_resolves_every_logical_image_to_an_immutable_reference():
    lock = load_lock(ROOT / LOCK_FILE)
    raw = json.loads((ROOT / LOCK_FILE).read_text())
    assert lock.containers and lock.amis
    for name, entry in raw["containers"].items():
        reference = lock.resolve_container(name)
        assert reference == entry["reference"]
        assert re.fullmatch(r"[a-z0-9.-]+/[a-z0-9/._-]+@sha256:[0-9a-f]{64}", reference)
    for name, entry in raw["amis"].items():
        # every region the reference stacks use
        assert {"us-east-1", "us-west-2"} <= set(entry["regions"])
        for region, ami_id in entry["regions"].items():
            assert lock.resolve_ami(name, region) == ami_id
            assert re.fullmatch(r"ami-[0-9a-f]{17}", ami_id)


def test_module_functions_read_the_project_lock_from_the_working_directory(monkeypatch, tmp_path):
    (tmp_path / "images").mkdir()
    document = lock_document()
    (tmp_path / LOCK_FILE).write_text(json.dumps(document))
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert resolve_container("checkout") == document["containers"]["checkout"]["reference"]
    assert resolve_ami("checkout", "us-west-2") == "ami-0fedcba9876543210"


def test_tag_before_digest_and_registry_port_are_accepted_and_returned_verbatim():
    document = lock_document()
    document["containers"]["tagged"] = {"reference": f"{REGISTRY}/shop/checkout:1.4.2@{DIGEST}", "source": "x"}
    document["containers"]["local"] = {"reference": f"localhost:5000/checkout@{DIGEST}", "source": "x"}
    lock = parse_lock(document)
    assert lock.resolve_container("tagged") == f"{REGISTRY}/shop/checkout:1.4.2@{DIGEST}"
    assert lock.resolve_container("local") == f"localhost:5000/checkout@{DIGEST}"


# --- a bad lock fails at load, naming the file and the field ----------------------------

BAD_LOCKS = [
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout:v1.2.0",
                 "containers.checkout.reference", "tag 'v1.2.0' without a digest", id="tag-without-digest"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout:latest",
                 "containers.checkout.reference", "'latest' is a moving tag", id="latest"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout:latest@{DIGEST}",
                 "containers.checkout.reference", "'latest' is a moving tag", id="latest-even-with-digest"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout",
                 "containers.checkout.reference", "an untagged name means 'latest'", id="untagged"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout@sha256:abc123",
                 "containers.checkout.reference", "malformed digest 'sha256:abc123'", id="short-digest"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout@{DIGEST.upper()}",
                 "containers.checkout.reference", "malformed digest", id="uppercase-digest"),
    pytest.param(("containers", "checkout", "reference"), f"{REGISTRY}/shop/checkout@sha512:{'a' * 128}",
                 "containers.checkout.reference", "expected sha256:<64 lowercase hex>", id="other-algorithm"),
    pytest.param(("containers", "checkout", "reference"), f"shop/checkout@{DIGEST}",
                 "containers.checkout.reference", "does not start with a registry host", id="no-registry"),
    pytest.param(("amis", "checkout", "regions", "us-west-2"), "ami-123",
                 "amis.checkout.regions", "us-west-2: malformed AMI id 'ami-123'", id="short-ami"),
    pytest.param(("amis", "checkout", "regions", "us-west-2"), "ami-0FEDCBA9876543210",
                 "amis.checkout.regions", "malformed AMI id", id="uppercase-ami"),
    pytest.param(("amis", "checkout", "regions"), {"useast1": "ami-0123456789abcdef0"},
                 "amis.checkout.regions", "'useast1' is not an AWS region name", id="bad-region"),
    pytest.param(("amis", "checkout", "regions"), {}, "amis.checkout.regions", "at least 1 item", id="no-regions"),
    pytest.param(("version",), 2, "version", "Input should be 1", id="unknown-version"),
    pytest.param(("registry",), "x", "registry", "Extra inputs are not permitted", id="unknown-key"),
]


@pytest.mark.parametrize(("path", "value", "field", "fragment"), BAD_LOCKS)
def test_bad_lock_is_refused_with_file_and_field(path, value, field, fragment):
    document = copy.deepcopy(lock_document())
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ImageLockError) as caught:
        parse_lock(document, source="images/images.lock.json")
    error = caught.value
    assert (error.file, error.field) == ("images/images.lock.json", field)
    assert fragment in error.reason
    assert str(error).startswith(f"images/images.lock.json: {field}: ")


def test_logical_names_are_dns_labels():
    document = lock_document()
    document["containers"]["Check_Out"] = document["containers"].pop("checkout")
    with pytest.raises(ImageLockError) as caught:
        parse_lock(document)
    assert caught.value.field == "containers.Check_Out"
    assert "lowercase DNS label" in caught.value.reason


def test_missing_and_malformed_lock_files(tmp_path):
    with pytest.raises(ImageLockError, match="image lock file not found"):
        load_lock(tmp_path / "images.lock.json")
    broken = tmp_path / "images.lock.json"
    broken.write_text('{"version": 1,\n "containers": {,}}')
    with pytest.raises(ImageLockError) as caught:
        load_lock(broken)
    assert caught.value.field == "line 2"
    assert "malformed JSON" in caught.value.reason
    broken.write_text("[]")
    with pytest.raises(ImageLockError, match="must be a JSON object"):
        load_lock(broken)


# --- lookups that cannot be satisfied ---------------------------------------------------

def test_unknown_names_and_missing_regions_are_errors_naming_the_field():
    lock = parse_lock(lock_document(), source="images/images.lock.json")
    cases = [
        (lambda: lock.resolve_container("payments"), "containers.payments",
         "unknown container image 'payments' (known: checkout)"),
        (lambda: lock.resolve_ami("payments", "us-east-1"), "amis.payments",
         "unknown AMI image 'payments' (known: checkout)"),
        (lambda: lock.resolve_ami("checkout", "eu-central-1"), "amis.checkout.regions.eu-central-1",
         "no AMI for region 'eu-central-1' (locked regions: us-east-1, us-west-2)"),
    ]
    for call, field, message in cases:
        with pytest.raises(ImageLockError) as caught:
            call()
        assert caught.value.field == field
        assert caught.value.reason.startswith(message)
        assert caught.value.file == "images/images.lock.json"
        # bad input: the CLI maps it to exit 2
        assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


@pytest.mark.parametrize(("name", "fragment"), [
    ("nginx:latest", "the 'latest' tag is never allowed"),
    (f"{REGISTRY}/shop/checkout:v3", "is not a logical image name"),
    ("Checkout", "is not a logical image name"),
])
def test_a_registry_reference_is_not_accepted_in_place_of_a_logical_name(name, fragment):
    lock = parse_lock(lock_document())
    with pytest.raises(ImageLockError) as caught:
        lock.resolve_container(name)
    assert caught.value.field == "image"
    assert fragment in caught.value.reason


def test_container_reference_problem_accepts_only_pinned_references():
    assert container_reference_problem(f"{REGISTRY}/a/b@{DIGEST}") is None
    assert container_reference_problem(f"{REGISTRY}/a/b:1.0@{DIGEST}") is None
    for bad in ("", f" {REGISTRY}/a@{DIGEST}", f"{REGISTRY}/A@{DIGEST}", f"{REGISTRY}/a:b@c@{DIGEST}",
                "docker.io/library/nginx", "nginx"):
        assert container_reference_problem(bad), bad


# --- the lock against the stacks that use it -------------------------------------------

def _stack(regions: list[str], services: list[dict]) -> object:
    base = {"domain": "x.example.com", "hosted_zone": "example.com", "runbook_url": "https://runbooks.example.com/x",
            "database": {"engine": "dynamodb"}}
    return parse_stack_config("prod", {
        "environment": "prod" if len(regions) > 1 else "dev",
        "regions": regions,
        "alerting": {"page": [{"protocol": "email", "endpoint": "a@example.com"}],
                     "ticket": [{"protocol": "email", "endpoint": "b@example.com"}]},
        "services": [{**base, **service, **({"kubernetes": {"contexts": {r: f"prod-{r}" for r in regions}}}
                                            if service.get("platform") == "kubernetes" else {})}
                     for service in services],
    }, source="stacks/Pulumi.prod.yaml")


def test_requirements_split_containers_from_amis_per_platform():
    config = _stack(["us-east-1", "us-west-2"], [
        {"name": "checkout", "image": "checkout"},
        {"name": "catalog", "image": "catalog", "platform": "kubernetes"},
    ])
    needs = requirements_of(config)
    assert needs.amis == {"checkout"} and needs.containers == {"catalog"}
    assert needs.regions == {"us-east-1", "us-west-2"}
    assert needs.users == {"amis.checkout": ["prod/checkout"], "containers.catalog": ["prod/catalog"]}


def test_check_lock_lists_every_problem_and_passes_a_fit_lock():
    lock = parse_lock(lock_document(), source="images/images.lock.json")
    assert check_lock(lock, ["us-east-1", "us-west-2"], containers=["checkout"], amis=["checkout"]) == []
    problems = check_lock(lock, ["us-east-1", "eu-west-1", "ap-south-1"], containers=["checkout", "catalog"],
                          amis=["checkout", "search"], users={"amis.search": ["prod/search"]})
    assert [(p.field, p.reason.split(" (")[0]) for p in problems] == [
        ("containers.catalog", "unknown container image 'catalog'"),
        ("amis.checkout.regions.ap-south-1", "no AMI for region 'ap-south-1'"),
        ("amis.checkout.regions.eu-west-1", "no AMI for region 'eu-west-1'"),
        ("amis.search", "unknown AMI image 'search'"),
    ]
    assert "used by prod/search" in problems[-1].reason
    # amis=None holds every locked AMI to the regions; an empty list checks none
    assert [p.field for p in check_lock(lock, ["eu-west-1"])] == ["amis.checkout.regions.eu-west-1"]
    assert check_lock(lock, ["eu-west-1"], amis=[]) == []
