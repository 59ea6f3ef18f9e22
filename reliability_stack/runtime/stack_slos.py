"""The SLOs of a stack: each service's spec files from the stack config, loaded and checked."""

from __future__ import annotations

from pathlib import Path

from reliability_stack.config import StackConfig, stack_file
from reliability_stack.errors import ConfigError
from reliability_stack.slo.loaders import load_slo_files
from reliability_stack.slo.model import SLO


def load_stack_slos(root: Path, config: StackConfig) -> list[SLO]:
    """Every SLO of every service, in config order. A spec must describe the service that lists it."""
    slos: list[SLO] = []
    source = str(stack_file(root, config.stack).relative_to(root))
    for index, service in enumerate(config.services):
        paths = []
        for position, relative in enumerate(service.slos):
            path = root / relative
            if not path.is_file():
                raise ConfigError(f"SLO spec file {relative!r} does not exist", file=source,
                                  field=f"reliability-stack:services[{index}].slos[{position}]")
            paths.append(path)
        for slo in load_slo_files(paths).slos:
            if slo.service != service.name:
                raise ConfigError(f"{slo.source or 'the spec'} describes service {slo.service!r}, "
                                  f"not {service.name!r}", file=source, field=f"reliability-stack:services[{index}].slos")
            slos.append(slo)
    return slos
