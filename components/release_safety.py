"""Feature flags through AWS AppConfig, rolled out gradually and rolled back by alarms.

A flag change is a deployment: AppConfig hands the new flag values to a growing share of
clients (linear or exponential steps over `deployment_duration_minutes`), then watches for
`final_bake_time_minutes`. If any of the environment's monitor alarms goes into ALARM during
the rollout or the bake, AppConfig rolls back to the previous values on its own. It reads
the alarms through an IAM role declared here. This complements the weighted blue/green
and canary forwarding of the load balancer: flags change behaviour, not binaries.

Usage::

    from reliability_stack.components.release_safety import ReleaseSafety, ReleaseSafetyArgs

    flags = ReleaseSafety("checkout-flags", ReleaseSafetyArgs(
        service="checkout",
        rollback_alarm_arns=[slo_fast_burn_alarm.arn, alb_5xx_alarm.arn],
        flags={"new-checkout-flow": False, "read-from-cache": True},
    ))
    pulumi.export("appConfigApplicationId", flags.application_id)
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:release_safety:ReleaseSafety"
COMPONENT = "ReleaseSafety"

GROWTH_TYPES = ("LINEAR", "EXPONENTIAL")
MAX_MONITORS = 5  # AppConfig's limit per environment
FLAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
FEATURE_FLAGS_PROFILE_TYPE = "AWS.AppConfig.FeatureFlags"


def feature_flags_document(flags: dict[str, bool]) -> str:
    """The AWS.AppConfig.FeatureFlags (version 1) JSON document for boolean flags."""
    document = {
        "version": "1",
        "flags": {name: {"name": name} for name in sorted(flags)},
        "values": {name: {"enabled": bool(flags[name])} for name in sorted(flags)},
    }
    return json.dumps(document, sort_keys=True)


@dataclass
class ReleaseSafetyArgs:
    """Arguments of `ReleaseSafety`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service whose flags these are (tag `reliability-stack:service`, application name)."""

    rollback_alarm_arns: list[pulumi.Input[str]]
    """CloudWatch alarms that roll a flag deployment back (1-5; e.g. fast-burn SLO and 5xx alarms)."""

    flags: dict[str, bool] = field(default_factory=dict)
    """Initial flag values, deployed as the first hosted configuration version."""

    environment_name: str | None = None
    """AppConfig environment name; defaults to the stack name."""

    growth_type: str = "LINEAR"
    """LINEAR (equal steps) or EXPONENTIAL (small first steps)."""

    growth_factor: float = 20.0
    """Percent of clients added per step (LINEAR) or growth rate (EXPONENTIAL), 1-100."""

    deployment_duration_minutes: int = 20
    """Total rollout time (1-1440)."""

    final_bake_time_minutes: int = 10
    """Time the alarms keep watching after 100 % before the deployment completes (0-1440)."""

    allow_all_at_once: bool = False
    """Knob: permit growth_factor 100 or a zero duration (every client at once)."""

    allow_without_rollback_alarms: bool = False
    """Knob: permit an environment without monitors (no automatic rollback)."""

    deploy_initial_version: bool = True
    """Deploy the initial flag values with the gradual strategy."""

    region: str | None = None
    """Region of the AppConfig resources (pulumi-aws 7 `region`); None means the provider's region."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        if not self.service:
            raise ComponentArgsError(COMPONENT, "service", "must name the owning service")
        if len(self.rollback_alarm_arns) > MAX_MONITORS:
            raise ComponentArgsError(COMPONENT, "rollback_alarm_arns",
                                     f"AppConfig accepts at most {MAX_MONITORS} monitors per environment")
        if not self.rollback_alarm_arns and not self.allow_without_rollback_alarms:
            raise ComponentArgsError(
                COMPONENT, "rollback_alarm_arns",
                "at least one alarm is needed for automatic rollback (set allow_without_rollback_alarms=True to accept none)")
        for name in self.flags:
            if not FLAG_NAME.match(name):
                raise ComponentArgsError(COMPONENT, "flags",
                                         f"{name!r}: flag names start with a letter and use letters, digits, - and _ (max 64)")
        if self.growth_type not in GROWTH_TYPES:
            raise ComponentArgsError(COMPONENT, "growth_type", f"must be one of {', '.join(GROWTH_TYPES)}")
        if not 1 <= self.growth_factor <= 100:
            raise ComponentArgsError(COMPONENT, "growth_factor", "must be 1-100")
        if not 0 <= self.deployment_duration_minutes <= 1440:
            raise ComponentArgsError(COMPONENT, "deployment_duration_minutes", "must be 0-1440")
        if not 0 <= self.final_bake_time_minutes <= 1440:
            raise ComponentArgsError(COMPONENT, "final_bake_time_minutes", "must be 0-1440")
        if not self.allow_all_at_once:
            if self.deployment_duration_minutes == 0:
                raise ComponentArgsError(COMPONENT, "deployment_duration_minutes",
                                         "0 deploys to every client at once (set allow_all_at_once=True to accept)")
            if self.growth_factor >= 100:
                raise ComponentArgsError(COMPONENT, "growth_factor",
                                         "100 deploys to every client at once (set allow_all_at_once=True to accept)")


class ReleaseSafety(pulumi.ComponentResource):
    """AppConfig application, monitored environment, feature-flag profile and gradual strategy."""

    application_id: pulumi.Output[str]
    environment_id: pulumi.Output[str]
    configuration_profile_id: pulumi.Output[str]
    deployment_strategy_id: pulumi.Output[str]

    def __init__(self, name: str, args: ReleaseSafetyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region

        application = aws.appconfig.Application(
            name, name=f"{args.service}-{pulumi.get_stack()}"[:64],
            description=f"Feature flags of {args.service}", region=region, tags=tags, opts=child)

        monitors: list[aws.appconfig.EnvironmentMonitorArgs] = []
        if args.rollback_alarm_arns:
            role = aws.iam.Role(
                f"{name}-alarm-reader",
                description=f"Lets AppConfig read the rollback alarms of {args.service}",
                assume_role_policy=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "appconfig.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}],
                }),
                tags=tags, opts=child)
            policy = aws.iam.RolePolicy(
                f"{name}-alarm-reader",
                role=role.id,
                policy=pulumi.Output.all(*args.rollback_alarm_arns).apply(lambda arns: json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                                   "Resource": sorted(arns)}],
                })),
                opts=child)
            # Name the role only after its policy exists, so AppConfig can read alarms from the first check.
            role_arn = pulumi.Output.all(role.arn, policy.id).apply(lambda values: values[0])
            monitors = [aws.appconfig.EnvironmentMonitorArgs(alarm_arn=arn, alarm_role_arn=role_arn)
                        for arn in args.rollback_alarm_arns]

        environment = aws.appconfig.Environment(
            f"{name}-env", application_id=application.id,
            name=(args.environment_name or pulumi.get_stack())[:64],
            description=f"{args.service} flags; rolled back when a monitor alarms",
            monitors=monitors or None, region=region, tags=tags, opts=child)
        profile = aws.appconfig.ConfigurationProfile(
            f"{name}-flags", application_id=application.id, name="feature-flags",
            description=f"Feature flags of {args.service}", location_uri="hosted",
            type=FEATURE_FLAGS_PROFILE_TYPE, region=region, tags=tags, opts=child)
        version = aws.appconfig.HostedConfigurationVersion(
            f"{name}-flags-initial", application_id=application.id,
            configuration_profile_id=profile.configuration_profile_id,
            content_type="application/json", content=feature_flags_document(args.flags),
            description="Initial flag values declared by the stack", region=region, opts=child)
        strategy = aws.appconfig.DeploymentStrategy(
            f"{name}-gradual",
            name=f"{args.service}-{pulumi.get_stack()}-gradual"[:64],
            description=f"{args.growth_type.lower()} {args.growth_factor:g} % over "
                        f"{args.deployment_duration_minutes} min, bake {args.final_bake_time_minutes} min",
            growth_type=args.growth_type,
            growth_factor=args.growth_factor,
            deployment_duration_in_minutes=args.deployment_duration_minutes,
            final_bake_time_in_minutes=args.final_bake_time_minutes,
            replicate_to="NONE", region=region, tags=tags, opts=child)
        if args.deploy_initial_version:
            aws.appconfig.Deployment(
                f"{name}-flags-initial",
                application_id=application.id,
                environment_id=environment.environment_id,
                configuration_profile_id=profile.configuration_profile_id,
                configuration_version=version.version_number.apply(str),
                deployment_strategy_id=strategy.id,
                description="Initial flag values", region=region, tags=tags, opts=child)

        self.application_id = application.id
        self.environment_id = environment.environment_id
        self.configuration_profile_id = profile.configuration_profile_id
        self.deployment_strategy_id = strategy.id
        self.register_outputs({
            "application_id": application.id, "environment_id": environment.environment_id,
            "configuration_profile_id": profile.configuration_profile_id,
            "deployment_strategy_id": strategy.id,
        })
