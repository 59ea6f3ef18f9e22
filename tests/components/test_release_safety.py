"""ReleaseSafety: AppConfig flags, monitored environment, gradual strategy; knobs and errors."""

import json

import pytest

from reliability_stack.components.release_safety import (
    ReleaseSafety,
    ReleaseSafetyArgs,
    feature_flags_document,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.preview.mocks import RealisticMocks
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import children_of, find, one

APPCONFIG = "aws:appconfig"
PROFILE = f"{APPCONFIG}/configurationProfile:ConfigurationProfile"
ENVIRONMENT = f"{APPCONFIG}/environment:Environment"
VERSION = f"{APPCONFIG}/hostedConfigurationVersion:HostedConfigurationVersion"
STRATEGY = f"{APPCONFIG}/deploymentStrategy:DeploymentStrategy"
DEPLOYMENT = f"{APPCONFIG}/deployment:Deployment"
ALARMS = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-fast-burn",
          "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-5xx"]
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class AppConfigMocks(RealisticMocks):
    """Adds the AppConfig ids and version number AWS assigns (not in the shared mocks yet)."""

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ == PROFILE:
            state["configurationProfileId"] = f"prof{resource_id[-6:]}"
        elif args.typ == ENVIRONMENT:
            state["environmentId"] = f"env{resource_id[-6:]}"
        elif args.typ == VERSION:
            state["versionNumber"] = 1
        return resource_id, state


def release_args(**overrides) -> ReleaseSafetyArgs:
    values = dict(service="shop", rollback_alarm_arns=list(ALARMS), flags={"new-checkout": False, "cache_reads": True},
                  region="eu-west-1")
    values.update(overrides)
    return ReleaseSafetyArgs(**values)


def capture(args: ReleaseSafetyArgs):
    return capture_program(lambda: ReleaseSafety("shop-flags", args), stack="prod", mocks=AppConfigMocks()).resources


@pytest.fixture(scope="module")
def resources():
    return capture(release_args())


def plain(value):
    # HostedConfigurationVersion.content is a provider secret; the engine sees it wrapped.
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def test_declares_appconfig_resources_and_alarm_role(resources):
    component = one(resources, "reliability-stack:release_safety:ReleaseSafety")
    assert sorted(r.type for r in children_of(resources, component)) == sorted([
        f"{APPCONFIG}/application:Application", ENVIRONMENT, PROFILE, VERSION, STRATEGY, DEPLOYMENT,
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"])
    for resource in resources:
        if resource.type.startswith(APPCONFIG):
            assert resource.props["region"] == "eu-west-1"
        if "tags" in resource.props:
            assert resource.props["tags"][STACK_TAG] == "prod" and resource.props["tags"][SERVICE_TAG] == "shop"


def test_environment_monitors_roll_back_on_each_alarm(resources):
    environment = one(resources, ENVIRONMENT)
    role = one(resources, "aws:iam/role:Role")
    assert environment.props["monitors"] == [{"alarmArn": arn, "alarmRoleArn": role.outputs["arn"]} for arn in ALARMS]
    trust = json.loads(role.props["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "appconfig.amazonaws.com"}
    policy = json.loads(one(resources, "aws:iam/rolePolicy:RolePolicy").props["policy"])
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                                    "Resource": sorted(ALARMS)}]


def test_feature_flag_profile_with_initial_hosted_version(resources):
    profile = one(resources, PROFILE, type="AWS.AppConfig.FeatureFlags", locationUri="hosted")
    version = one(resources, VERSION, contentType="application/json")
    assert version.props["configurationProfileId"] == profile.outputs["configurationProfileId"]
    document = json.loads(plain(version.props["content"]))
    assert document == {
        "version": "1",
        "flags": {"cache_reads": {"name": "cache_reads"}, "new-checkout": {"name": "new-checkout"}},
        "values": {"cache_reads": {"enabled": True}, "new-checkout": {"enabled": False}},
    }


def test_gradual_strategy_deploys_the_initial_version(resources):
    strategy = one(resources, STRATEGY)
    assert strategy.props["growthType"] == "LINEAR"
    assert 0 < strategy.props["growthFactor"] < 100
    assert strategy.props["deploymentDurationInMinutes"] > 0
    assert strategy.props["finalBakeTimeInMinutes"] > 0
    assert strategy.props["replicateTo"] == "NONE"
    deployment = one(resources, DEPLOYMENT)
    assert deployment.props["configurationVersion"] == "1"
    assert deployment.props["environmentId"] == one(resources, ENVIRONMENT).outputs["environmentId"]
    assert deployment.props["deploymentStrategyId"].startswith("shop-flags-gradual")


def test_feature_flags_document_is_deterministic():
    assert feature_flags_document({"b": True, "a": False}) == feature_flags_document({"a": False, "b": True})
    assert json.loads(feature_flags_document({}))["flags"] == {}


def test_knobs_exponential_all_at_once_no_alarms_no_deployment():
    resources = capture(release_args(growth_type="EXPONENTIAL", growth_factor=100, deployment_duration_minutes=0,
                                     allow_all_at_once=True, rollback_alarm_arns=[],
                                     allow_without_rollback_alarms=True, deploy_initial_version=False))
    strategy = one(resources, STRATEGY)
    assert strategy.props["growthType"] == "EXPONENTIAL" and strategy.props["growthFactor"] == 100
    assert "monitors" not in one(resources, ENVIRONMENT).props
    assert not find(resources, "aws:iam/role:Role") and not find(resources, DEPLOYMENT)


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(rollback_alarm_arns=[]), "rollback_alarm_arns"),
    (dict(rollback_alarm_arns=ALARMS * 3), "rollback_alarm_arns"),
    (dict(flags={"1st": True}), "flags"),
    (dict(flags={"has space": True}), "flags"),
    (dict(growth_type="STEP"), "growth_type"),
    (dict(growth_factor=0), "growth_factor"),
    (dict(growth_factor=100), "growth_factor"),
    (dict(deployment_duration_minutes=0), "deployment_duration_minutes"),
    (dict(deployment_duration_minutes=2000), "deployment_duration_minutes"),
    (dict(final_bake_time_minutes=-1), "final_bake_time_minutes"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(release_args(**overrides))
    assert error.value.field == f"ReleaseSafety.{argument}"
