"""`relstack policies`: the policy pack's catalogue and its generated documentation."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reliability_stack.cli.exit_codes import run_guarded
from reliability_stack.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"
CHECK_OPTION = typer.Option(False, "--check", help="Fail (exit 1) if the README table is stale.")
README_OPTION = typer.Option(None, "--readme", help="The pack README (default: policies/README.md).")


def docs(readme: Path, check: bool, console: Console) -> int:
    """Regenerate the coverage section of the pack README; with `check`, only report staleness."""
    from reliability_stack.policies.coverage import render_readme
    from reliability_stack.policies.registry import all_rules

    if not readme.is_file():
        raise ConfigError("policy pack README not found", file=readme, field="--readme")
    current = readme.read_text(encoding="utf-8")
    wanted = render_readme(current, all_rules())
    if check:
        if wanted != current:
            console.print(f"{readme}: coverage table is stale; run `relstack policies docs`")
            return 1
        console.print(f"{readme}: coverage table is current")
        return 0
    if wanted != current:
        readme.write_text(wanted, encoding="utf-8")
        console.print(f"{readme}: coverage table updated")
    else:
        console.print(f"{readme}: already current")
    return 0


def list_policies(console: Console) -> int:
    from reliability_stack.policies.registry import all_rules

    table = Table("policy", "kind", "default", "anchors", "technique")
    for rule in all_rules():
        table.add_row(rule.id, rule.kind, rule.enforcement, ", ".join(rule.anchors), ", ".join(rule.techniques))
    console.print(table)
    return 0


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The CrossGuard policy pack: list policies, regenerate their documentation.",
                        no_args_is_help=True)

    @group.command("docs")
    def docs_command(
        check: bool = CHECK_OPTION,
        readme: Path | None = README_OPTION,
    ) -> None:
        """Regenerate the coverage table in policies/README.md from the policies' own metadata."""
        run_guarded(lambda: docs(readme or README, check, Console()))

    @group.command("list")
    def list_command() -> None:
        """List every policy with its default enforcement level, anchors and seed technique."""
        run_guarded(lambda: list_policies(Console()))

    app.add_typer(group, name="policies")
