"""The component provider: schema built offline, served by the real host, and constructing components."""

import dataclasses
import json
import subprocess
import sys
import typing
from pathlib import Path

import grpc
import pytest
import yaml
from pulumi.provider.experimental import component as sdk_component
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from reliability_stack import component_provider
from reliability_stack.component_provider import (
    NOT_EXPOSED,
    PACKAGE,
    DataclassAnalyzer,
    args_type,
    build_schema,
    exposed_components,
    hosted,
    public_components,
    token_collisions,
)
from reliability_stack.preview.capture import capture_program
from tests.assertions import find, one

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "provider"


@pytest.fixture(scope="module")
def schema():
    return build_schema()


@pytest.fixture(scope="module")
def components():
    return public_components()


def token(name: str) -> str:
    return f"{PACKAGE}:index:{name}"


def test_schema_lists_every_public_component_not_explicitly_excluded(schema, components):
    exposed = {c.__name__ for c in components} - set(NOT_EXPOSED)
    assert {"CacheTier", "RegionalDatabase", "DynamoDbGlobalTable"} <= exposed
    listed = {t.rsplit(":", 1)[-1] for t, r in schema["resources"].items() if r.get("isComponent")}
    assert listed == exposed
    assert schema["name"] == PACKAGE


def test_every_input_of_every_exposed_component_is_in_the_schema(schema, components):
    for component in components:
        if component.__name__ in NOT_EXPOSED:
            continue
        args = args_type(component)
        resource = schema["resources"][token(component.__name__)]
        fields = dataclasses.fields(args)
        assert set(resource["inputProperties"]) == {camel_case(f.name) for f in fields}, component.__name__
        # Only fields without a default are required: a resilient default needs no input.
        required = {camel_case(f.name) for f in fields
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        assert set(resource.get("requiredInputs", [])) == required, component.__name__


def test_cache_tier_schema_keeps_enums_nested_types_and_descriptions(schema):
    cache = schema["resources"][token("CacheTier")]
    assert set(cache["requiredInputs"]) == {"service", "vpcId", "subnetIds", "availabilityZones"}
    assert cache["inputProperties"]["engine"]["$ref"] == f"#/types/{token('CacheEngine')}"
    assert [e["value"] for e in schema["types"][token("CacheEngine")]["enum"]] == ["valkey", "redis"]
    secondary = cache["inputProperties"]["secondaryRegions"]["items"]["$ref"]
    assert set(schema["types"][secondary.removeprefix("#/types/")]["required"]) == {
        "region", "vpcId", "subnetIds", "availabilityZones"}
    assert "noeviction" in cache["inputProperties"]["maxmemoryPolicy"]["description"]
    assert set(cache["properties"]) >= {"primaryEndpoint", "readerEndpoint", "globalDatastoreId"}


def test_no_type_token_collides_with_a_component_token(schema):
    assert token_collisions(schema) == []


@pytest.mark.parametrize("name", sorted(NOT_EXPOSED))
def test_every_exclusion_is_still_necessary(name, components):
    """An excluded component must still fail analysis or collide, else the exclusion is stale."""
    component = next(c for c in components if c.__name__ == name)
    try:
        result = DataclassAnalyzer(PACKAGE).analyze([hosted(component)])
    except Exception:  # noqa: BLE001 - the analyzer raises plain Exceptions
        return
    assert set(result["type_definitions"]) & {name}, f"{name} analyzes cleanly: expose it"


def test_plugin_folder_declares_a_python_plugin_hosting_the_package():
    assert yaml.safe_load((PROVIDER_DIR / "PulumiPlugin.yaml").read_text()) == {"runtime": "python"}
    main = (PROVIDER_DIR / "__main__.py").read_text()
    assert "component_provider_host(name=PACKAGE" in main and PACKAGE == "reliability-stack"
    assert "pulumi package add ./provider" in (PROVIDER_DIR / "README.md").read_text()


def test_the_provider_process_serves_the_schema_over_grpc(schema):
    """Start provider/__main__.py as the engine would and ask it for its schema."""
    process = subprocess.Popen([sys.executable, str(PROVIDER_DIR / "__main__.py"), "127.0.0.1:1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        port = process.stdout.readline().decode().strip()
        assert port.isdigit(), process.stderr.read().decode() if process.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30).schema)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert served["resources"].keys() == schema["resources"].keys()
    assert served["types"].keys() == schema["types"].keys()


@pytest.fixture(scope="module")
def provider():
    """The SDK's own ComponentProvider, as the host builds it (with our analyzer)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sdk_component, "Analyzer", DataclassAnalyzer)
        return ComponentProvider(exposed_components(), PACKAGE)


def test_construct_builds_a_cache_tier_from_plain_provider_inputs(provider):
    """The provider path: camelCase plain inputs -> dataclass args -> the same resilient resources."""
    inputs = {
        "service": "orders", "region": "eu-west-1", "vpcId": "vpc-1", "subnetIds": ["subnet-a", "subnet-b"],
        "availabilityZones": ["eu-west-1a", "eu-west-1b"], "engine": "redis", "engineVersion": "7.1",
        "shards": 2.0, "replicasPerShard": 1.0,  # numbers arrive as floats over gRPC
    }
    resources = capture_program(
        lambda: provider.construct("orders-cache", token("CacheTier"), inputs, None)).resources
    component = one(resources, token("CacheTier"))
    group = one(resources, "aws:elasticache/replicationGroup:ReplicationGroup", engine="redis", numNodeGroups=2,
                replicasPerNodeGroup=1, multiAzEnabled=True, transitEncryptionMode="required")
    assert group.parent == component.urn and group.options["protect"] is True
    one(resources, "aws:elasticache/parameterGroup:ParameterGroup", family="redis7")


def test_construct_builds_nested_dataclasses_for_a_global_database(provider):
    region = {"vpcId": "vpc", "subnetIds": ["a", "b"]}
    inputs = {
        "service": "orders", "masterPassword": "s3cret-pa55word",
        "primary": {"region": "eu-west-1", "availabilityZones": ["eu-west-1a", "eu-west-1b"], **region},
        "secondaries": [{"region": "us-east-1", "availabilityZones": ["us-east-1a", "us-east-1b"], **region}],
    }
    resources = capture_program(lambda: provider.construct("orders-db", token("RegionalDatabase"), inputs, None)).resources
    assert sorted(c.props["region"] for c in find(resources, "aws:rds/cluster:Cluster")) == ["eu-west-1", "us-east-1"]
    one(resources, "aws:rds/globalCluster:GlobalCluster", deletionProtection=True)


def test_invalid_provider_inputs_surface_the_component_error(provider):
    from pulumi.provider.server import ComponentInitError

    inputs = {"service": "orders", "vpcId": "v", "subnetIds": ["a", "b"], "availabilityZones": ["a", "b"],
              "maxmemoryPolicy": "noeviction"}
    with pytest.raises(ComponentInitError, match="maxmemory_policy"):
        capture_program(lambda: provider.construct("orders-cache", token("CacheTier"), inputs, None))


def test_hosted_component_keeps_name_docs_and_args_annotation():
    from reliability_stack.components.cache_tier import CacheTier, CacheTierArgs

    wrapped = hosted(CacheTier)
    assert wrapped.__name__ == "CacheTier" and wrapped.__doc__ == CacheTier.__doc__
    assert typing.get_type_hints(wrapped.__init__)["args"] is CacheTierArgs
    assert component_provider.PACKAGE == PACKAGE


def test_reliable_service_args_rebuild_from_provider_inputs(provider):
    """The composed service from another language: camelCase inputs incl. the pydantic alerting model."""
    from reliability_stack.components.reliable_service import ReliableServiceArgs
    from reliability_stack.config import AlertRouting
    from reliability_stack.dataclass_inputs import build_dataclass

    target = {"protocol": "email", "endpoint": "oncall@example.com"}
    inputs = {"service": "orders", "regions": ["eu-west-1", "us-east-1"], "domain": "orders.example.com",
              "hostedZone": "example.com", "runbookUrl": "https://runbooks.example.com/orders",
              "alerting": {"page": [target], "ticket": [target]}, "databaseMasterPassword": "s3cret-pa55word",
              "amiIds": {"eu-west-1": "ami-1", "us-east-1": "ami-2"}, "minSize": 4.0}
    # The SDK's own name mapping (camelCase -> snake_case, required inputs), then ours.
    mapped = provider.map_inputs(inputs, provider._component_defs["ReliableService"])
    args = build_dataclass(ReliableServiceArgs, mapped)
    assert isinstance(args.alerting, AlertRouting) and args.alerting.page[0].endpoint == "oncall@example.com"
    assert args.min_size == 4 and isinstance(args.min_size, int) and args.hosted_zone == "example.com"
    args.validate()
