"""`relstack slo compile` and `relstack slo explain`: SLO specs to rule files and to tables.

Loading happens before anything is printed or written, so a bad file gives exit 2 with one
line naming file and field, and no partial output; `--output` files are replaced atomically.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from reliability_stack.atomic_file import write_text_atomically
from reliability_stack.cli.exit_codes import run_guarded
from reliability_stack.errors import InputError
from reliability_stack.slo import budget
from reliability_stack.slo.durations import humanize_seconds
from reliability_stack.slo.loaders import LoadedSpecs, load_slo_files
from reliability_stack.slo.model import SLO, BurnRateTier
from reliability_stack.slo.outputs import Target, compile_text

#: The burn rate of the "detection at Nx" column of `explain`.
EXPLAIN_BURN = 10.0

Simulator = Callable[[SLO, BurnRateTier], tuple[float | None, float | None]]


def _simulator() -> Simulator | None:
    """`cloudwatch_sim.simulated_detection_and_reset` when that module is installed."""
    try:
        module = importlib.import_module("reliability_stack.slo.cloudwatch_sim")
    except ModuleNotFoundError as exc:
        if exc.name != "reliability_stack.slo.cloudwatch_sim":
            raise
        return None
    return getattr(module, "simulated_detection_and_reset", None)


def explain_tables(slos: tuple[SLO, ...], simulate: Simulator | None = None) -> list[Table]:
    """One rich table per SLO: budget header and a row per tier."""
    tables = []
    for slo in slos:
        minutes = budget.error_budget_minutes(slo.objective, slo.window)
        caption = (f"budget {slo.error_budget_ratio:.4g} = {minutes:.1f} min per {slo.window_label}; "
                   f"SLO downtime {humanize_seconds(budget.allowed_downtime_seconds(slo.objective, slo.window))}")
        if slo.sla is not None:
            caption += (f"; SLA {slo.sla:g}% downtime "
                        f"{humanize_seconds(budget.allowed_downtime_seconds(slo.sla, slo.window))}")
        table = Table(title=f"{slo.service} / {slo.name}: {slo.objective:g}% over {slo.window_label} ({slo.sli.kind})",
                      caption=caption, title_justify="left", caption_justify="left")
        for column in ("tier", "windows", "burn", "threshold", "budget at fire", "detect 100%",
                       f"detect {EXPLAIN_BURN:g}x", "reset"):
            table.add_column(column, justify="left" if column in {"tier", "windows"} else "right")
        if simulate is not None:
            table.add_column("CW detect 100%", justify="right")
            table.add_column("CW reset", justify="right")
        for tier in slo.tiers:
            row = [
                tier.name, tier.window_pair.replace("-", " / "), f"{tier.burn_rate:g}x",
                f"{budget.threshold(tier, slo.objective) * 100:.3g}%",
                f"{budget.budget_consumed(tier, slo.window) * 100:.3g}%",
                humanize_seconds(budget.detection_time_full_outage(tier, slo.objective)),
                humanize_seconds(budget.detection_time_at_burn(tier, slo.objective, EXPLAIN_BURN)),
                humanize_seconds(budget.reset_time(tier, slo.objective)),
            ]
            if simulate is not None and slo.sli.cloudwatch is None:
                row += ["n/a", "n/a"]  # no CloudWatch alarms are declared for this SLO
            elif simulate is not None:
                detected, reset = simulate(slo, tier)
                row += [humanize_seconds(detected), humanize_seconds(reset)]
            table.add_row(*row)
        tables.append(table)
    return tables


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {pair!r}", field="--label")
        labels[key] = value
    return labels


def _warn(loaded: LoadedSpecs, console: Console) -> None:
    for warning in loaded.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    slo_app = typer.Typer(help="Compile SLO specs into alerting rules and explain their error budgets.",
                          no_args_is_help=True)

    @slo_app.command("compile")
    def compile_command(
        files: Annotated[list[Path], typer.Argument(help="SLO spec files (native, OpenSLO v1, Sloth prometheus/v1).")],
        target: Annotated[Target, typer.Option("--target", "-t", help="What to generate.")] = Target.prometheus,
        output: Annotated[Path | None, typer.Option("--output", "-o",
                                                    help="Write here (atomically) instead of stdout.")] = None,
        name: Annotated[str, typer.Option("--name", help="metadata.name of the PrometheusRule.")] = "slo-rules",
        namespace: Annotated[str, typer.Option("--namespace", help="Namespace of the PrometheusRule.")] = "monitoring",
        label: Annotated[list[str] | None, typer.Option(
            "--label", help="KEY=VALUE label of the PrometheusRule (match the operator's ruleSelector).")] = None,
    ) -> None:
        """Compile SLO specs into a Prometheus rule file, a PrometheusRule or Alertmanager inhibit rules."""

        def body() -> int:
            stderr = Console(stderr=True)
            labels = _labels(label or [])
            loaded = load_slo_files(files)
            text = compile_text(loaded, target, name=name, namespace=namespace, labels=labels,
                                sources=[str(f) for f in files])
            _warn(loaded, stderr)
            if output is None:
                typer.echo(text, nl=False)
            else:
                write_text_atomically(output, text)
            return 0

        run_guarded(body)

    @slo_app.command("explain")
    def explain_command(
        files: Annotated[list[Path], typer.Argument(help="SLO spec files.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the alert plans as JSON (the preview's shape).")] = False,
    ) -> None:
        """Print error budgets and the burn-rate tiers: thresholds, budget spent, detection and reset times."""

        def body() -> int:
            loaded = load_slo_files(files)
            console = Console(width=160)
            _warn(loaded, Console(stderr=True))
            if as_json:
                from reliability_stack.slo.plan import alert_plan

                plans: list[dict[str, Any]] = [alert_plan(slo) for slo in loaded.slos]
                typer.echo(json.dumps(plans, indent=2))
                return 0
            for table in explain_tables(loaded.slos, _simulator()):
                console.print(table)
                console.print()
            return 0

        run_guarded(body)

    app.add_typer(slo_app, name="slo")
