"""The reliability-stack CrossGuard pack: `pulumi preview --policy-pack policies` starts this file.

It only assembles the pack; the rules live in importable modules (see registry.py), so
tests and the docs generator import them without starting a server. `servicer.install()`
makes the SDK's analyzer dispatch by resource type (see servicer.py for the measurements).
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from reliability_stack.collector import collect_rarely
from reliability_stack.policies import servicer
from reliability_stack.policies.pack import PACK_NAME, build_policies, initial_config

servicer.install()
policies = build_policies()
collect_rarely()  # what is loaded by now lives as long as the server (see collector.py)

PolicyPack(
    name=PACK_NAME,
    policies=policies,
    enforcement_level=EnforcementLevel.ADVISORY,
    initial_config=initial_config(),
    description="Resilience policies: redundancy, failover, timeouts, retries, rollouts, alarms, backups, "
                "and the security settings reliability depends on.",
)
