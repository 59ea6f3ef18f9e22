"""Per-stack policy config resolves the way `pulumi preview --policy-pack-config` resolves it."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from reliability_stack.errors import ConfigError
from reliability_stack.preview.analyzer import _duration_seconds, resolve_policy_config


def _info() -> analyzer_pb2.AnalyzerInfo:
    info = analyzer_pb2.AnalyzerInfo(name="pack")
    schema = struct_pb2.Struct()
    schema.update({"minReplicas": {"type": "integer", "minimum": 1, "default": 2}})
    info.policies.append(analyzer_pb2.PolicyInfo(
        name="replicas", enforcementLevel=analyzer_pb2.MANDATORY,
        configSchema=analyzer_pb2.PolicyConfigSchema(properties=schema)))
    info.policies.append(analyzer_pb2.PolicyInfo(name="alarms", enforcementLevel=analyzer_pb2.ADVISORY))
    return info


def test_defaults_come_from_the_policy_and_its_schema():
    resolved = resolve_policy_config(_info(), None, source="cfg.json")
    assert resolved == {"replicas": {"enforcementLevel": "mandatory", "minReplicas": 2},
                        "alarms": {"enforcementLevel": "advisory"}}


def test_all_then_per_policy_overrides():
    resolved = resolve_policy_config(
        _info(), {"all": "advisory", "alarms": {"enforcementLevel": "mandatory"}, "replicas": {"minReplicas": 3}},
        source="cfg.json")
    assert resolved["replicas"] == {"enforcementLevel": "advisory", "minReplicas": 3}
    assert resolved["alarms"] == {"enforcementLevel": "mandatory"}


def test_a_bare_level_string_is_accepted():
    assert resolve_policy_config(_info(), {"replicas": "disabled"}, source="c")["replicas"]["enforcementLevel"] == "disabled"


@pytest.mark.parametrize(("document", "field", "reason"), [
    ({"nope": "advisory"}, "nope", "no policy named 'nope'"),
    ({"replicas": {"minReplicas": 0}}, "replicas.minReplicas", "less than the minimum"),
    ({"replicas": {"minReplicas": "two"}}, "replicas.minReplicas", "is not of type 'integer'"),
    ({"alarms": {"enforcementLevel": "loud"}}, "alarms.enforcementLevel", "unknown enforcement level"),
    ({"all": "sometimes"}, "all", "unknown enforcement level"),
])
def test_bad_policy_config_names_file_and_field(document, field, reason):
    with pytest.raises(ConfigError) as caught:
        resolve_policy_config(_info(), document, source="stacks/policy-config.prod.json")
    assert caught.value.file == "stacks/policy-config.prod.json"
    assert caught.value.field == field
    assert reason in str(caught.value)


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("1h30m", 5400), ("", 0), ("45s", 45), ("1.5h", 5400)])
def test_custom_timeouts_travel_as_seconds(text, seconds):
    assert _duration_seconds(text) == seconds
