"""The type-dispatching servicer answers exactly as the SDK's servicer does, only cheaper."""

from __future__ import annotations

from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk
from pulumi_policy.policy import _PolicyAnalyzerServicer

from reliability_stack.policies.pack import PACK_NAME, build_policies, initial_config
from reliability_stack.policies.servicer import TypeDispatchingServicer, _IdentityMemo, _JsonFormat
from reliability_stack.preview.analyzer import _analyze_request, _resource_message, _resource_messages
from tests.policies.corpus import MUTATIONS, good_stack, mutate


def _request(resource) -> analyzer_pb2.AnalyzeRequest:
    # Encoded exactly as `relstack preview` sends it.
    return _analyze_request(_resource_message(resource, {}))


def _answers(servicer, requests):
    return [sorted((d.policyName, d.enforcementLevel, d.message) for d in servicer.Analyze(r, None).diagnostics)
            for r in requests]


def _configure(servicer, levels):
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, level in levels.items():
        request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(enforcementLevel=level))
    servicer.Configure(request, None)


def test_dispatch_gives_the_sdk_servicers_answers():
    args = (PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY, initial_config())
    plain, dispatching = _PolicyAnalyzerServicer(*args), TypeDispatchingServicer(*args)
    first_per_policy = {m.policy: m for m in reversed(MUTATIONS) if not m.path.startswith("@")}.values()
    resources = good_stack() + [mutate(good_stack(), m)[1] for m in first_per_policy]
    requests = [_request(r) for r in resources]
    expected = _answers(plain, requests)
    assert sum(map(len, expected)) > len(first_per_policy) // 2, "the corpus should produce diagnostics"
    assert _answers(dispatching, requests) == expected
    # Configure after the per-type servicers exist reaches them too.
    levels = {"k8s-workload-probes": analyzer_pb2.DISABLED, "aws-rds-multi-az": analyzer_pb2.ADVISORY}
    _configure(plain, levels)
    _configure(dispatching, levels)
    assert _answers(dispatching, requests) == _answers(plain, requests)


def _stack_request(resources) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(resources=_resource_messages(resources))


def test_stack_analysis_matches_the_sdk_servicer():
    args = (PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY, initial_config())
    plain, dispatching = _PolicyAnalyzerServicer(*args), TypeDispatchingServicer(*args)
    stacks = [good_stack()] + [mutate(good_stack(), m)[0] for m in MUTATIONS
                               if m.policy in ("k8s-pdb-coverage", "slo-burn-rate-alarms", "aws-nat-per-az")]
    for resources in stacks:
        request = _stack_request(resources)
        expected = sorted((d.policyName, d.urn, d.message) for d in plain.AnalyzeStack(request, None).diagnostics)
        got = sorted((d.policyName, d.urn, d.message) for d in dispatching.AnalyzeStack(request, None).diagnostics)
        assert got == expected


def test_no_resource_policy_runs_for_a_type_none_applies_to():
    args = (PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY, initial_config())
    dispatching = TypeDispatchingServicer(*args)
    request = _request({"type": "aws:iam/role:Role", "name": "r", "urn": "urn:r", "parent": None, "props": {"name": "r"},
                        "options": {"protect": False, "ignoreChanges": []}})
    assert list(dispatching.Analyze(request, None).diagnostics) == []
    assert dispatching._by_type["aws:iam/role:Role"] is None  # noqa: SLF001 - the dispatch table itself


def test_what_only_stack_policies_read_is_decoded_before_the_stack_request(monkeypatch):
    # The memos `install()` puts in the pack process, for this test only.
    monkeypatch.setattr(sdk, "json_format", _JsonFormat(sdk.json_format))
    monkeypatch.setattr(sdk, "deserialize_properties", _IdentityMemo(sdk.deserialize_properties))
    monkeypatch.setattr(sdk, "unknown_checking_proxy", _IdentityMemo(sdk.unknown_checking_proxy))
    decoded = []
    to_dict = sdk.json_format.MessageToDict
    decode = to_dict.function
    to_dict.function = lambda message: decoded.append(message) or decode(message)
    args = (PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY, initial_config())
    dispatching = TypeDispatchingServicer(*args)
    role = {"type": "aws:iam/role:Role", "name": "r", "urn": "urn:r", "parent": None, "props": {"name": "r"},
            "options": {"protect": False, "ignoreChanges": []}}
    dispatching.Analyze(_request(role), None)
    assert len(decoded) == 1  # decoded although no resource policy reads it
    dispatching.AnalyzeStack(_stack_request([role]), None)
    assert len(decoded) == 1  # the stack request, another message with the same content, found it done
