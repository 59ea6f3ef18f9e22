"""`relstack images check`: is the image lock fit for the stacks that use it?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from reliability_stack.cli.exit_codes import run_guarded


def register(app: typer.Typer) -> None:
    images_app = typer.Typer(help="Check the image lock (images/images.lock.json) against the stacks.",
                             no_args_is_help=True)

    @images_app.command("check")
    def check_command(
        stacks: Annotated[list[str] | None, typer.Option(
            "--stack", "-s", help="Stack to check (repeatable; default: every stacks/Pulumi.*.yaml).")] = None,
        lock_file: Annotated[Path | None, typer.Option(
            "--lock", help="Lock file (default: images/images.lock.json).")] = None,
        project_dir: Annotated[Path | None, typer.Option(
            "--project-dir", help="Folder with Pulumi.yaml (default: cwd).")] = None,
    ) -> None:
        """Validate the lock (digests, AMI ids) and that every image and region the stacks use is locked.

        Exit 0 when fit, 2 with one message per problem otherwise.
        """
        run_guarded(lambda: check(stacks or [], lock_file, project_dir))

    app.add_typer(images_app, name="images")


def _stacks_in(root: Path) -> list[str]:
    from reliability_stack.config import STACKS_DIR

    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml"))


def check(stacks: list[str], lock_file: Path | None, project_dir: Path | None) -> int:
    """Body of `relstack images check`; returns the exit code."""
    from reliability_stack.config import load_stack_config
    from reliability_stack.images import LOCK_FILE, check_lock, load_lock, requirements_of
    from reliability_stack.preview.engine import find_project_root

    out = Console()
    err = Console(stderr=True)
    root = find_project_root(project_dir)
    lock = load_lock(lock_file if lock_file is not None else root / LOCK_FILE)

    names = stacks or _stacks_in(root)
    problems: dict[str, str] = {}  # one line per problem, in order, without repeats
    used_by: dict[str, list[str]] = {}
    for stack in names:
        config = load_stack_config(root, stack)
        needs = requirements_of(config)
        for name, users in needs.users.items():
            used_by.setdefault(name, []).extend(users)
        for problem in check_lock(lock, needs.regions, containers=needs.containers, amis=needs.amis,
                                  users=needs.users):
            problems.setdefault(str(problem), stack)

    if problems:
        for message in problems:
            err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        err.print(f"{len(problems)} problem(s) in {lock.source}", highlight=False)
        return 2

    table = Table(title=f"{lock.source}: {len(lock.containers)} container(s), {len(lock.amis)} AMI(s)")
    table.add_column("image")
    table.add_column("kind")
    table.add_column("pinned to", overflow="fold")
    table.add_column("used by")
    for name, container in sorted(lock.containers.items()):
        table.add_row(name, "container", container.reference, ", ".join(used_by.get(f"containers.{name}", [])) or "-")
    for name, ami in sorted(lock.amis.items()):
        regions = ", ".join(f"{region}={ami_id}" for region, ami_id in sorted(ami.regions.items()))
        table.add_row(name, "ami", regions, ", ".join(used_by.get(f"amis.{name}", [])) or "-")
    out.print(table)
    checked = ", ".join(names) if names else "no stacks found: lock format only"
    out.print(f"image lock OK ({checked})", highlight=False)
    return 0
