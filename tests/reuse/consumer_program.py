"""A separate Pulumi program that reuses reliability-stack: the stack program of a consumer team.

Copied into a temporary project by tests/reuse/test_consumer_program.py and run with an
interpreter that has reliability-stack installed as a normal (non-editable) package. Two
lines of stack config (`consumer:service`, `consumer:domain`) declare a whole service.
"""

import pulumi

from reliability_stack.components import ReliableService, ReliableServiceArgs
from reliability_stack.config import AlertRouting, AlertTarget

REGION = "eu-west-1"

config = pulumi.Config()
service = config.require("service")
domain = config.require("domain")

orders = ReliableService(service, ReliableServiceArgs(
    service=service,
    regions=[REGION],
    domain=domain,
    hosted_zone=domain.split(".", 1)[1],
    runbook_url=f"https://runbooks.example.com/{service}",
    alerting=AlertRouting(page=[AlertTarget(protocol="email", endpoint="oncall@example.com")],
                          ticket=[AlertTarget(protocol="email", endpoint="team@example.com")]),
    ami_ids={REGION: "ami-0123456789abcdef0"},
))
pulumi.export("service", service)
