"""The SRE runtime commands: `stack-name`, `report`, `gate`, `verify`.

`report`, `gate` and `verify` read the live account through boto3 (`--endpoint-url` points
them at a moto server or a VPC endpoint). Exit codes: 0 allowed / clean, 1 blocked /
mismatches, 2 bad input, 3 the AWS APIs failed (after bounded retries).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from reliability_stack.atomic_file import write_text_atomically
from reliability_stack.cli.exit_codes import run_guarded

if TYPE_CHECKING:
    from reliability_stack.config import StackConfig
    from reliability_stack.runtime.aws_clients import AwsClients
    from reliability_stack.runtime.budget_status import SloStatus
    from reliability_stack.slo.model import SLO


class MissingData(StrEnum):
    block = "block"
    allow = "allow"


class RetryModeOption(StrEnum):
    standard = "standard"
    adaptive = "adaptive"


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass(frozen=True)
class AwsOptions:
    """The connection options every AWS-reading command shares."""

    endpoint_url: str | None
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    retry_mode: RetryModeOption


# typer has no option groups: these aliases declare the shared options once.
Stack = Annotated[str, typer.Option("--stack", "-s", help="Stack name (stacks/Pulumi.<stack>.yaml).")]
ProjectDir = Annotated[Path | None, typer.Option("--project-dir", help="Folder with Pulumi.yaml (default: cwd).")]
EndpointUrl = Annotated[str | None, typer.Option("--endpoint-url", envvar="RELSTACK_AWS_ENDPOINT_URL",
                                                 help="Send AWS calls here (a moto server in tests).")]
ConnectTimeout = Annotated[float, typer.Option("--connect-timeout", help="Seconds to open a connection.")]
ReadTimeout = Annotated[float, typer.Option("--read-timeout", help="Seconds to wait for a response.")]
MaxAttempts = Annotated[int, typer.Option("--max-attempts", help="Attempts per API call, retries included.")]
RetryMode = Annotated[RetryModeOption, typer.Option("--retry-mode", help="botocore retry mode.")]


def _load(stack: str, project_dir: Path | None, aws: AwsOptions) -> tuple[StackConfig, list[SLO], AwsClients]:
    """The stack config, its SLOs and an AWS client cache for its primary region."""
    from reliability_stack.config import load_stack_config
    from reliability_stack.preview.engine import find_project_root
    from reliability_stack.runtime.aws_clients import AwsClients, ClientSettings
    from reliability_stack.service_slos import load_stack_slos

    root = find_project_root(project_dir)
    config = load_stack_config(root, stack)
    slos = list(load_stack_slos(root, config).slos)
    settings = ClientSettings(region=config.primary_region, endpoint_url=aws.endpoint_url,
                              connect_timeout=aws.connect_timeout, read_timeout=aws.read_timeout,
                              max_attempts=aws.max_attempts, retry_mode=aws.retry_mode.value)
    return config, slos, AwsClients(settings)


def _measure(stack: str, project_dir: Path | None, aws: AwsOptions) -> list[SloStatus]:
    """The status of every SLO of the stack, measured from CloudWatch."""
    from reliability_stack.runtime.slo_measurement import measure_slo

    config, slos, clients = _load(stack, project_dir, aws)
    return [measure_slo(clients, config, slo).status for slo in slos]


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """A rich table titled at the left with `columns`, ready for rows."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def register(app: typer.Typer) -> None:
    """Add the runtime commands to `relstack`."""
    app.command("stack-name")(_stack_name)
    app.command("report")(_report)
    app.command("gate")(_gate)
    app.command("verify")(_verify)


def _stack_name(
    branch: Annotated[str, typer.Argument(help="Git branch name, e.g. $GITHUB_REF_NAME.")],
    prefix: Annotated[str, typer.Option("--prefix", help="Prefix of review stacks.")] = "review",
    max_length: Annotated[int, typer.Option("--max-length", help="Longest name to produce.")] = 48,
) -> None:
    """Print the review stack name of a branch: deterministic, sanitized, length-bounded."""
    from reliability_stack.runtime.stack_name import stack_name_for_branch

    def body() -> int:
        typer.echo(stack_name_for_branch(branch, prefix=prefix, max_length=max_length))
        return 0

    run_guarded(body)


def _report(
    stack: Stack,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also write the error-budget burn-down PNG here.")] = None,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.text,
    project_dir: ProjectDir = None,
    endpoint_url: EndpointUrl = None,
    connect_timeout: ConnectTimeout = 3.0,
    read_timeout: ReadTimeout = 10.0,
    max_attempts: MaxAttempts = 4,
    retry_mode: RetryMode = RetryModeOption.standard,
) -> None:
    """SLI, error budget remaining and burn rate per window of every SLO, from CloudWatch; optional burn-down PNG."""
    aws = AwsOptions(endpoint_url, connect_timeout, read_timeout, max_attempts, retry_mode)

    def body() -> int:
        from reliability_stack.runtime import slo_report
        from reliability_stack.runtime.burn_down_chart import check_chart_path, render_burn_down

        if chart is not None:
            check_chart_path(chart)
        statuses = _measure(stack, project_dir, aws)
        # Everything is read before anything is written: a failed read leaves no chart behind.
        if output_format is ReportFormat.json:
            typer.echo(json.dumps(slo_report.as_json(stack, statuses), indent=2))
        else:
            Console(width=140).print(slo_report.render(statuses))
        if chart is not None:
            render_burn_down(statuses, chart, stack=stack)
            Console(stderr=True).print(f"wrote burn-down chart to {chart}")
        return 0

    run_guarded(body)


def _gate(
    stack: Stack,
    override: Annotated[str | None, typer.Option(
        "--override", help="Release anyway (a fix or a rollback); the reason is recorded.")] = None,
    on_missing_data: Annotated[MissingData, typer.Option(
        "--on-missing-data", help="What to do when an SLO has no data to judge.")] = MissingData.block,
    record: Annotated[Path | None, typer.Option("--record", help="Write the decision as JSON here (audit record).")] = None,
    project_dir: ProjectDir = None,
    endpoint_url: EndpointUrl = None,
    connect_timeout: ConnectTimeout = 3.0,
    read_timeout: ReadTimeout = 10.0,
    max_attempts: MaxAttempts = 4,
    retry_mode: RetryMode = RetryModeOption.standard,
) -> None:
    """The error-budget release gate. Exit 0 allowed, 1 blocked, 2 bad input, 3 AWS failure."""
    aws = AwsOptions(endpoint_url, connect_timeout, read_timeout, max_attempts, retry_mode)

    def body() -> int:
        from reliability_stack.runtime.release_gate import check_override, decide

        check_override(override)  # bad input before any AWS call
        statuses = _measure(stack, project_dir, aws)
        decision = decide(stack, statuses, on_missing_data=on_missing_data.value, override=override)
        console = Console(width=140)
        table = _table(f"release gate: stack {stack}", ("service", "slo", "verdict", "reason"))
        for finding in decision.findings:
            style = {"blocked": "bold red", "unmeasured": "yellow"}.get(finding.verdict)
            table.add_row(finding.service, finding.slo, finding.verdict, finding.reason, style=style)
        console.print(table)
        console.print(decision.summary(), highlight=False, soft_wrap=True)
        if record is not None:
            write_text_atomically(record, decision.record())
        _append_step_summary(decision.summary())
        return decision.exit_code

    run_guarded(body)


def _append_step_summary(line: str) -> None:
    """In GitHub Actions, keep the decision on the run's summary page too."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(f"**Release gate:** {line}\n")


def _verify(
    stack: Stack,
    project_dir: ProjectDir = None,
    endpoint_url: EndpointUrl = None,
    connect_timeout: ConnectTimeout = 3.0,
    read_timeout: ReadTimeout = 10.0,
    max_attempts: MaxAttempts = 4,
    retry_mode: RetryMode = RetryModeOption.standard,
) -> None:
    """Check the deployed resources against the stack's reliability intent. Exit 1 on any mismatch."""
    aws = AwsOptions(endpoint_url, connect_timeout, read_timeout, max_attempts, retry_mode)

    def body() -> int:
        from reliability_stack.runtime.deployed_intent import verify_stack

        config, slos, clients = _load(stack, project_dir, aws)
        checks = verify_stack(clients, config, slos)
        table = _table(f"verify: stack {stack}",
                       ("service", "region", "resource", "check", "expected", "actual", "result"))
        for check in checks:
            table.add_row(check.service, check.region, check.resource, check.check, check.expected, check.actual,
                          "ok" if check.ok else "MISMATCH", style=None if check.ok else "bold red")
        console = Console(width=160)
        console.print(table)
        mismatches = [c for c in checks if not c.ok]
        console.print(f"{len(checks) - len(mismatches)} checks passed, {len(mismatches)} mismatch(es)",
                      highlight=False)
        return 1 if mismatches else 0

    run_guarded(body)
