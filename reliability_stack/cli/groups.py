"""The command groups of `relstack`; each module adds its commands to the app."""

from __future__ import annotations

from collections.abc import Callable

import typer

Registrar = Callable[[typer.Typer], None]


def _collect() -> list[Registrar]:
    registrars: list[Registrar] = []
    from reliability_stack.cli import preview_cmd

    registrars.append(preview_cmd.register)
    for module_name in ("slo_cmd", "images_cmd", "policies_cmd", "runtime_cmd"):
        try:
            module = __import__(f"reliability_stack.cli.{module_name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"reliability_stack.cli.{module_name}":
                raise
            continue
        registrars.append(module.register)
    return registrars


REGISTRARS: list[Registrar] = _collect()
