"""`load_slo_file`: the one entry point from a spec file to validated `SLO` objects.

The format is recognised from the first document: `apiVersion: openslo/v1` is OpenSLO,
`version: prometheus/v1` is Sloth, anything else is the native format. Every error is a
`SpecError` naming the file and the field path; warnings come back with the SLOs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reliability_stack.errors import SpecError
from reliability_stack.slo.model import SLO
from reliability_stack.slo.parsing import FieldLocator, read_documents
from reliability_stack.slo.spec_native import load_native
from reliability_stack.slo.spec_openslo import load_openslo
from reliability_stack.slo.spec_sloth import SLOTH_VERSION, load_sloth
from reliability_stack.slo.validate import check_unique, validate_slo


@dataclass(frozen=True)
class LoadedSpecs:
    """The SLOs of one or more spec files, and the warnings met while loading them."""

    slos: tuple[SLO, ...]
    warnings: tuple[str, ...] = field(default=())


def spec_format(document: dict) -> str:
    """`openslo`, `sloth` or `native`, from the first document of a file."""
    if str(document.get("apiVersion", "")).startswith("openslo/"):
        return "openslo"
    if document.get("version") == SLOTH_VERSION:
        return "sloth"
    return "native"


def load_slo_file(path: str | Path) -> LoadedSpecs:
    """Parse and validate one spec file (native, OpenSLO v1 or Sloth prometheus/v1)."""
    path = Path(path)
    file = str(path)
    documents = read_documents(path)
    fmt = spec_format(documents[0])
    warnings: list[str] = []
    located: list[tuple[SLO, FieldLocator]]
    if fmt == "openslo":
        located, warnings = load_openslo(documents, file)
    else:
        if len(documents) > 1:
            raise SpecError(f"a {fmt} spec file holds one YAML document, found {len(documents)}",
                            file=file, field="documents[1]")
        if fmt == "sloth":
            located, warnings = load_sloth(documents[0], file)
        else:
            located = load_native(documents[0], file)
    check_unique(located, file)
    for slo, where in located:
        warnings.extend(validate_slo(slo, where, file))
    return LoadedSpecs(tuple(slo for slo, _ in located), tuple(warnings))


def load_slo_files(paths: Iterable[str | Path]) -> LoadedSpecs:
    """Load several spec files; an SLO id (`service-name`) must be unique across them."""
    slos: list[SLO] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    for path in paths:
        loaded = load_slo_file(path)
        for slo in loaded.slos:
            if slo.id in seen:
                raise SpecError(f"SLO {slo.name!r} of service {slo.service!r} is also defined in {seen[slo.id]}",
                                file=str(path), field="name")
            seen[slo.id] = str(path)
        slos.extend(loaded.slos)
        warnings.extend(loaded.warnings)
    return LoadedSpecs(tuple(slos), tuple(warnings))
