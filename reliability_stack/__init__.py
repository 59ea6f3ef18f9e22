"""reliability-stack: resilient Pulumi components, SLO-driven alerting and resilience policies.

The pure core (config and SLO models, SLO math, rule generation) never imports Pulumi;
`reliability_stack.components` holds the Pulumi components and `reliability_stack.policies`
the CrossGuard rules.
"""

__version__ = "0.1.0"
