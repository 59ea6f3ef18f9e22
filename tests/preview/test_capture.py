"""The mock-runtime capture records inputs and every resource option the engine would see."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from reliability_stack.preview.capture import DuplicateResourceError, capture_program
from tests.assertions import one, props_like


def test_options_and_inputs_are_captured():
    def program() -> None:
        bucket = aws.s3.Bucket("logs", opts=pulumi.ResourceOptions(
            protect=True, retain_on_delete=True, ignore_changes=["tags"]))
        aws.sqs.Queue("jobs", visibility_timeout_seconds=180, opts=pulumi.ResourceOptions(
            depends_on=[bucket], delete_before_replace=True, replace_on_changes=["fifoQueue"],
            custom_timeouts=pulumi.CustomTimeouts(create="5m", delete="10m")))

    captured = capture_program(program, config={"aws:region": "eu-west-1"})
    bucket = one(captured.resources, "aws:s3/bucket:Bucket")
    queue = one(captured.resources, "aws:sqs/queue:Queue", visibilityTimeoutSeconds=180)
    assert bucket.options["protect"] is True
    assert bucket.options["retainOnDelete"] is True
    assert bucket.options["ignoreChanges"] == ["tags"]
    assert queue.options["dependsOn"] == [bucket.urn]
    assert queue.options["deleteBeforeReplace"] is True
    assert queue.options["replaceOnChanges"] == ["fifoQueue"]
    assert queue.options["customTimeouts"] == {"create": "5m", "delete": "10m"}
    assert queue.options["protect"] is False
    assert queue.parent == captured.stack_urn
    # Whole-number inputs read back as ints although the wire carries floats.
    assert isinstance(queue.props["visibilityTimeoutSeconds"], int)


def test_mock_outputs_feed_dependents_with_plausible_values():
    def program() -> None:
        queue = aws.sqs.Queue("jobs")
        pulumi.export("url", queue.url)
        pulumi.export("arn", queue.arn)

    captured = capture_program(program, config={"aws:region": "ap-southeast-2"})
    assert captured.exports["url"].startswith("https://sqs.ap-southeast-2.amazonaws.com/123456789012/")
    assert captured.exports["arn"].startswith("arn:aws:sqs:ap-southeast-2:123456789012:")


def test_explicit_provider_is_recorded():
    def program() -> None:
        west = aws.Provider("west", region="us-west-2")
        aws.sqs.Queue("jobs", opts=pulumi.ResourceOptions(provider=west))

    captured = capture_program(program)
    queue = one(captured.resources, "aws:sqs/queue:Queue")
    assert queue.options["provider"] and "pulumi:providers:aws" in queue.options["provider"]


def test_config_reaches_the_program_as_structured_values():
    seen: dict = {}

    def program() -> None:
        seen["services"] = pulumi.Config("reliability-stack").require_object("services")
        seen["region"] = pulumi.Config("aws").require("region")

    capture_program(program, config={"aws:region": "eu-central-1",
                                     "reliability-stack:services": [{"name": "checkout", "port": 8080}]})
    assert seen == {"services": [{"name": "checkout", "port": 8080}], "region": "eu-central-1"}


def test_duplicate_urns_are_refused_like_the_engine_does():
    def program() -> None:
        aws.sqs.Queue("jobs")
        aws.sqs.Queue("jobs")

    with pytest.raises(DuplicateResourceError, match="jobs"):
        capture_program(program)


def test_engine_warnings_about_deprecated_resources_are_collected():
    captured = capture_program(lambda: aws.s3.BucketV2("legacy"))
    assert any("BucketV2 is deprecated" in warning for warning in captured.warnings)
    clean = capture_program(lambda: aws.s3.Bucket("current"))
    assert clean.warnings == []


def test_each_run_starts_from_an_empty_stack():
    first = capture_program(lambda: aws.sqs.Queue("a"), stack="one")
    second = capture_program(lambda: aws.sqs.Queue("b"), stack="two")
    assert [r.name for r in first.resources] == ["a"]
    assert [r.name for r in second.resources] == ["b"]
    assert props_like(second.resources[0].urn, "urn:pulumi:two::reliability-stack::pulumi:pulumi:Stack$aws:sqs/queue:Queue::b")


def test_data_source_calls_answer_like_aws():
    def program() -> None:
        zones = aws.get_availability_zones_output(state="available")
        zone = aws.route53.get_zone_output(name="example.com")
        identity = aws.get_caller_identity_output()
        pulumi.export("azs", zones.names)
        pulumi.export("zone", zone.zone_id)
        pulumi.export("account", identity.account_id)

    captured = capture_program(program, config={"aws:region": "eu-west-1"})
    assert captured.exports["azs"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert captured.exports["zone"].startswith("Z")
    assert captured.exports["account"] == "123456789012"


def test_the_analyzer_sees_each_resource_with_its_provider():
    from reliability_stack.preview.analyzer import _provider_of, _providers

    def program() -> None:
        west = aws.Provider("west", region="us-west-2")
        aws.sqs.Queue("jobs", opts=pulumi.ResourceOptions(provider=west))
        aws.sqs.Queue("default-provider")

    resources = [r.to_plan() for r in capture_program(program).resources]
    providers = _providers(resources)
    by_name = {r["name"]: r for r in resources}
    message = _provider_of(by_name["jobs"], providers)
    assert message is not None and message.name == "west" and message.type == "pulumi:providers:aws"
    assert message.properties["region"] == "us-west-2"
    assert _provider_of(by_name["default-provider"], providers) is None
