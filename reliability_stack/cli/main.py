"""`relstack`: the command line. It only wires the core and the adapters together.

Each command group lives in its own module; this file assembles them and is the one
place that maps errors to exit codes (bad input 2, policy violation 1, tool failure 3).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import typer
from rich.console import Console

from reliability_stack.errors import ReliabilityStackError

stderr = Console(stderr=True)

app = typer.Typer(
    name="relstack",
    help="reliability-stack: offline preview, SLO compiler, images, release gate and SRE tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """reliability-stack: offline preview, SLO compiler, images, release gate and SRE tools."""


def run_guarded(action: Callable[[], int | None]) -> None:
    """Run a command body; turn product errors into one-line messages and exit codes."""
    try:
        code = action() or 0
    except ReliabilityStackError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True, markup=True)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:  # a bug: say so in one line; the traceback is one variable away
        if os.environ.get("RELSTACK_DEBUG"):
            raise
        stderr.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (set RELSTACK_DEBUG=1 for the "
                     "traceback)", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    raise typer.Exit(code)


def _register() -> None:
    # Imported here so that `relstack --help` stays fast and a broken group cannot hide the others.
    from reliability_stack.cli import groups

    for register in groups.REGISTRARS:
        register(app)


_register()
