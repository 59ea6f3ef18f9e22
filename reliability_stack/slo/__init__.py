"""SLO specs to error budgets and multi-window, multi-burn-rate alerts; pure Python, no Pulumi.

Pipeline: `loaders.load_slo_file` (native, OpenSLO v1, Sloth; `spec_*` parse, `validate`
checks) -> `model.SLO` -> `budget` (the Workbook math), `plan.alert_plan` (plan JSON),
`prometheus` (rules, inhibit rules, PrometheusRule) and the CloudWatch modules
(`cloudwatch_alarms`, `cloudwatch_sim`, ...) used by `components/slo_alarms.py`.
"""
