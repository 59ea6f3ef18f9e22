"""Pure logic of the policy views: proxy-safe reads, label selectors, link resolution, tri-state matching."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import (
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from reliability_stack.policies.view import (
    ResourceView,
    StackView,
    dig,
    fmt,
    items,
    json_prop,
    matching,
    number,
    selector_matches,
    tags_of,
)


def view(type_: str, name: str, props: dict, *, parent: str | None = None, deps=(), provider=None) -> ResourceView:
    return ResourceView(type_, name, f"urn:{type_}::{name}", unknown_checking_proxy(props), parent=parent,
                        dependencies=deps, provider=provider)


@pytest.mark.parametrize(("path", "expected"), [
    (("spec", "replicas"), 3.0),
    (("spec", "containers", 0, "name"), "web"),
    (("spec", "containers", 5, "name"), None),
    (("spec", "missing", "deeper"), None),
    (("spec", "nothing"), None),
])
def test_dig_follows_mappings_and_sequences(path, expected):
    props = unknown_checking_proxy({"spec": {"replicas": 3.0, "nothing": None, "containers": [{"name": "web"}]}})
    assert dig(props, *path) == expected


def test_dig_raises_on_unknown_instead_of_defaulting():
    props = unknown_checking_proxy({"spec": {"replicas": UNKNOWN_NUMBER_VALUE}})
    with pytest.raises(UnknownValueError):
        dig(props, "spec", "replicas", default=1)


@pytest.mark.parametrize(("raw", "expected"), [(7.0, 7.0), (7, 7.0), ("30", 30.0), (" 2.5 ", 2.5), (True, None),
                                               ("abc", None), (None, None)])
def test_number_accepts_wire_floats_and_numeric_strings(raw, expected):
    assert number(raw) == expected


def test_fmt_prints_numbers_as_written():
    assert (fmt(7.0), fmt(1.5), fmt(None)) == ("7", "1.5", "None")


def test_items_json_and_tags_helpers():
    assert items(None) == [] and items("abc") == [] and items(unknown_checking_proxy({"a": [1, 2]})["a"]) == [1, 2]
    assert json_prop('{"maxReceiveCount": 5}') == {"maxReceiveCount": 5} and json_prop("not json") is None
    assert tags_of({"tags": [{"key": "slo", "value": "x"}]}) == {"slo": "x"}
    assert tags_of({"tags": {"severity": "page"}}) == {"severity": "page"}


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {"app": "web"}, True),
    ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"}, True),
    ({"matchLabels": {"app": "api"}}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}, {"tier": "fe"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]}, {"tier": "fe"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"app": "web"}, True),
])
def test_label_selectors(selector, labels, expected):
    assert selector_matches(unknown_checking_proxy(selector), labels) is expected


def test_resolve_prefers_exact_ids_then_dependencies_then_the_longest_name():
    queue = view("aws:sqs/queue:Queue", "orders", {})
    dlq = view("aws:sqs/queue:Queue", "orders-dlq", {})
    named = view("aws:sqs/queue:Queue", "legacy", {"arn": "arn:aws:sqs:us-east-1:1:legacy-main"})
    owner = view("aws:sqs/redrivePolicy:RedrivePolicy", "r", {}, deps={queue.urn})
    stack = StackView([queue, dlq, named, owner])
    candidates = [queue, dlq, named]
    assert stack.resolve("arn:aws:sqs:us-east-1:1:legacy-main", candidates) is named
    assert stack.resolve("https://sqs.example/unrelated-name", candidates, owner=owner) is queue
    assert stack.resolve("arn:aws:sqs:us-east-1:1:orders-dlq-1a2b", candidates) is dlq
    assert stack.resolve("arn:aws:sqs:us-east-1:1:orders-1a2b", candidates) is queue
    assert stack.resolve("arn:aws:sqs:us-east-1:1:billing-1a2b", candidates) is None


def test_identifiers_are_the_known_string_references_read_in_order_up_to_an_unknown():
    bucket = view("aws:s3/bucket:Bucket", "logs", {"bucket": "logs-1a2b", "arn": "arn:aws:s3:::logs-1a2b",
                                                   "id": None, "name": "ab", "tags": {"name": "ignored"}})
    assert bucket.identifiers() == {"logs-1a2b", "arn:aws:s3:::logs-1a2b"}  # "ab": too short to refer by
    # An unknown value ends the reading (tri-state: what comes after it is not claimed).
    pending = view("aws:sqs/queue:Queue", "q", {"arn": "arn:aws:sqs:us-east-1:1:q", "id": UNKNOWN_STRING_VALUE,
                                                 "url": "https://sqs.example/q"})
    assert pending.identifiers() == {"arn:aws:sqs:us-east-1:1:q"}
    assert view("t", "x", {}).identifiers() == set()


def test_matching_reports_unknown_candidates():
    known = view("t", "a", {"spec": {"name": "web"}})
    unknown = view("t", "b", {"spec": {"name": UNKNOWN_STRING_VALUE}})
    found, unsure = matching([known, unknown], lambda r: r.get("spec", "name") == "web")
    assert found == [known] and unsure is True
    assert matching([known], lambda r: r.get("spec", "name") == "api") == ([], False)


def test_closest_keeps_a_components_own_candidates_and_its_provider():
    east = view("w", "web", {}, parent="svc-east", provider="k8s-east")
    pdb_east = view("p", "pdb-east", {}, parent="svc-east", provider="k8s-east")
    pdb_west = view("p", "pdb-west", {}, parent="svc-west", provider="k8s-west")
    stack = StackView([east, pdb_east, pdb_west])
    candidates = [pdb_east, pdb_west]
    assert stack.closest(east, candidates, candidates) == [pdb_east]
    assert stack.closest(east, [pdb_west], candidates) == []
    loose = view("w", "web", {}, parent="elsewhere")
    assert stack.closest(loose, candidates, candidates) == candidates


def test_a_target_group_feeds_the_workloads_of_its_component_and_those_linked_by_dependency():
    from reliability_stack.policies.stack import _workloads_behind

    deployment = "kubernetes:apps/v1:Deployment"
    tg = view("aws:lb/targetGroup:TargetGroup", "tg", {}, parent="urn:svc-a", deps={"urn:kubernetes:apps/v1:Deployment::linked-by-tg"})
    workloads = [
        view(deployment, "sibling", {}, parent="urn:svc-a"),
        view(deployment, "other-service", {}, parent="urn:svc-b"),
        view(deployment, "linked-by-tg", {}, parent="urn:svc-c"),
        view(deployment, "depends-on-tg", {}, parent="urn:svc-d", deps={tg.urn}),
        view(deployment, "no-parent", {}),
    ]
    orphan_tg = view("aws:lb/targetGroup:TargetGroup", "orphan", {})
    behind = _workloads_behind(StackView([*workloads, tg, orphan_tg]))
    assert [w.name for w in behind(tg)] == ["sibling", "linked-by-tg", "depends-on-tg"]  # stack order
    assert behind(orphan_tg) == []  # no parent: not the sibling of every parentless workload


def test_a_queue_takes_the_first_redrive_policy_resource_for_it_and_an_unknown_one_stands_for_the_rest():
    from reliability_stack.policies.stack import _redrive, _redrive_policy_resources

    queue_type, redrive_type = "aws:sqs/queue:Queue", "aws:sqs/redrivePolicy:RedrivePolicy"
    inline = view(queue_type, "inline", {"redrivePolicy": '{"maxReceiveCount": 3}'})
    first, second = (view(queue_type, name, {"url": f"https://sqs/{name}"}) for name in ("first", "second"))
    resources = [
        inline, first, second,
        view(redrive_type, "r1", {"queueUrl": "https://sqs/first", "redrivePolicy": '{"maxReceiveCount": 5}'}),
        view(redrive_type, "r2", {"queueUrl": UNKNOWN_STRING_VALUE, "redrivePolicy": "{}"}),
        view(redrive_type, "r3", {"queueUrl": "https://sqs/first", "redrivePolicy": '{"maxReceiveCount": 9}'}),
    ]
    stack = StackView(resources)
    separate = _redrive_policy_resources(stack, [inline, first, second])
    assert _redrive(inline, separate) == {"maxReceiveCount": 3}
    assert _redrive(first, separate) == {"maxReceiveCount": 5}  # matched before the unknown one
    with pytest.raises(UnknownValueError):  # r2 may be the one for it
        _redrive(second, separate)
