"""SRE runtime tools: they read the live account with boto3 and judge it against the stack's intent.

- `relstack report`: SLI, error budget remaining and burn rate per window of every SLO
  (CloudWatch GetMetricData, ratios of sums computed here), and a burn-down PNG;
- `relstack gate`: the error-budget release policy (exit 0 allowed, 1 blocked, 2 bad input,
  3 AWS failure), with a recorded override for fixes and rollbacks;
- `relstack verify`: the deployed resources, found by their stack and service tags, checked
  against the stack config and SLO specs;
- `relstack stack-name`: the review stack of a git branch.

Modules: `aws_clients` (timeouts, bounded retries, one error type), `tagged_resources`,
`cloudwatch_events` (reading counts), `budget_status` (pure budget arithmetic),
`slo_measurement`, `release_gate`, `slo_report`, `burn_down_chart`, `deployed_intent`,
`stack_slos`, `stack_name`.
"""
