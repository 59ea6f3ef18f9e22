"""The SLOs a stack's services name: spec files from the stack config, loaded and checked.

One loader for the stack program, the offline preview and the runtime tools: each spec
file must exist and describe the service that lists it, and errors name the stack file
and the field (`reliability-stack:services[0].slos[1]`).
"""

from __future__ import annotations

import os
from pathlib import Path

from reliability_stack.config import PROJECT, StackConfig, stack_file
from reliability_stack.errors import ConfigError
from reliability_stack.slo.loaders import LoadedSpecs, load_slo_files


def _spec_path(root: Path, path: str) -> Path:
    # Relative paths keep messages short ("slos/checkout.yaml: ...") when run from the project.
    full = root / path
    try:
        return Path(os.path.relpath(full, Path.cwd()))
    except ValueError:  # another drive (Windows)
        return full


def load_service_slos(root: Path, config: StackConfig, index: int) -> LoadedSpecs:
    """The SLOs of `config.services[index]`, which must all belong to that service."""
    service = config.services[index]
    source = f"{stack_file(Path('.'), config.stack)}"
    for position, relative in enumerate(service.slos):
        if not (root / relative).is_file():
            raise ConfigError(f"SLO file {relative!r} does not exist", file=source,
                              field=f"{PROJECT}:services[{index}].slos[{position}]")
    loaded = load_slo_files(_spec_path(root, relative) for relative in service.slos)
    for slo in loaded.slos:
        if slo.service != service.name:
            raise ConfigError(f"{slo.source or 'an SLO file'} defines SLO {slo.name!r} of service {slo.service!r}, "
                              f"not of {service.name!r}", file=source, field=f"{PROJECT}:services[{index}].slos")
    return loaded


def load_stack_slos(root: Path, config: StackConfig) -> LoadedSpecs:
    """Every SLO of every service, in config order, with the warnings met while loading."""
    per_service = [load_service_slos(root, config, index) for index in range(len(config.services))]
    return LoadedSpecs(tuple(slo for loaded in per_service for slo in loaded.slos),
                       tuple(warning for loaded in per_service for warning in loaded.warnings))
