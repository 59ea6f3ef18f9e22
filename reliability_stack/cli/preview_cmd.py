"""`relstack preview`: the offline preview of a stack."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reliability_stack.atomic_file import write_text_atomically
from reliability_stack.cli.exit_codes import run_guarded


class OutputFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


def render(plan: dict, output_format: OutputFormat) -> str:
    from reliability_stack.preview import render as renderers

    if output_format is OutputFormat.text:
        return renderers.render_text(plan)
    if output_format is OutputFormat.markdown:
        return renderers.render_markdown(plan)
    if output_format is OutputFormat.sarif:
        import json

        from reliability_stack.preview.sarif import to_sarif

        return json.dumps(to_sarif(plan), indent=2) + "\n"
    return renderers.render_json(plan)


def register(app: typer.Typer) -> None:
    @app.command()
    def preview(
        stack: Annotated[str, typer.Option("--stack", "-s", help="Stack name (stacks/Pulumi.<stack>.yaml).")],
        output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")] = OutputFormat.text,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")] = None,
        project_dir: Annotated[Path | None, typer.Option("--project-dir", help="Folder with Pulumi.yaml.")] = None,
        policy_pack_config: Annotated[Path | None, typer.Option(
            "--policy-pack-config", help="Policy config JSON, as for `pulumi preview` "
                                         "(default: stacks/policy-config.<stack>.json if present).")] = None,
    ) -> None:
        """Run the stack program offline under the Pulumi mock runtime and check it against the policy pack.

        Exit 0 when clean, 1 when a mandatory policy is violated, 2 on bad input, 3 when the program
        or the policy pack fails.
        """
        from reliability_stack.collector import collect_rarely
        from reliability_stack.preview.engine import find_project_root, run_preview

        def body() -> int:
            progress = Console(stderr=True)
            root = find_project_root(project_dir)
            collect_rarely()  # to the end of the process, which the report is (see collector.py)
            with progress.status(f"previewing stack {stack}…") as status:
                result = run_preview(stack, root=root, policy_config=policy_pack_config,
                                     progress=lambda message: status.update(f"{stack}: {message}…"))
            report = render(result.plan, output_format)
            if output is not None:
                write_text_atomically(output, report)
                progress.print(f"wrote {output_format.value} report to {output}")
            else:
                typer.echo(report, nl=False)
            return result.exit_code

        run_guarded(body)
