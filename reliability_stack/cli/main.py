"""`relstack`: the command line. It only wires the core and the adapters together.

Each command group lives in its own module and adds itself through `register(app)`;
errors become exit codes in `reliability_stack.cli.exit_codes`.
"""

from __future__ import annotations

import typer

from reliability_stack.cli import images_cmd, policies_cmd, preview_cmd, runtime_cmd, slo_cmd
from reliability_stack.collector import freeze_for_exit

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


for _group in (preview_cmd, slo_cmd, images_cmd, policies_cmd, runtime_cmd):
    _group.register(app)


def main() -> None:
    """The `relstack` console script: the app, then an exit without the teardown's collector passes."""
    try:
        app(prog_name="relstack")
    finally:
        freeze_for_exit()
