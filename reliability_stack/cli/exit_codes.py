"""The one place that maps errors to exit codes: bad input 2, tool failure 3, bug 3."""

from __future__ import annotations

import os
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape

from reliability_stack.errors import ReliabilityStackError

stderr = Console(stderr=True)


def run_guarded(action: Callable[[], int | None]) -> None:
    """Run a command body; turn product errors into one-line messages and exit codes.

    The body returns its own exit code (0 or None for success, 1 for a verdict such as
    "blocked" or "mandatory violation").
    """
    try:
        code = action() or 0
    except ReliabilityStackError as exc:
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:  # a bug: say so in one line; the traceback is one variable away
        if os.environ.get("RELSTACK_DEBUG"):
            raise
        stderr.print(f"[bold red]internal error:[/] {escape(f'{type(exc).__name__}: {exc}')} "
                     "(set RELSTACK_DEBUG=1 for the traceback)", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    raise typer.Exit(code)
