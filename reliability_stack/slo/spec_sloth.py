"""Sloth `prometheus/v1` specs (slok/sloth v0.16 `pkg/prometheus/api/v1`).

Sloth files carry Prometheus queries only. The window is Sloth's default, 30 days; the
tiers are the SRE Workbook's (page 14.4x 1h/5m and 6x 6h/30m, ticket 1x 3d/6h), and
`page_alert.disable` / `ticket_alert.disable` drop the tiers of that severity, as in
Sloth. `alerting.annotations.runbook` (or `runbook_url`) becomes the runbook link. SLI
plugins have no meaning outside Sloth and are rejected.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from reliability_stack.errors import SpecError
from reliability_stack.slo.model import DAY, DEFAULT_TIERS, SLI, SLO, PrometheusSLI
from reliability_stack.slo.parsing import FieldLocator, SpecModel, exactly_one_of, spec_error_from

SLOTH_VERSION = "prometheus/v1"
SLOTH_WINDOW = 30 * DAY


class _Events(SpecModel):
    error_query: str = Field(min_length=1)
    total_query: str = Field(min_length=1)


class _Raw(SpecModel):
    error_ratio_query: str = Field(min_length=1)


class _SLI(SpecModel):
    events: _Events | None = None
    raw: _Raw | None = None
    plugin: dict[str, Any] | None = None

    _one = exactly_one_of("events", "raw", "plugin")


class _Alert(SpecModel):
    disable: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class _Alerting(SpecModel):
    name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    page_alert: _Alert = _Alert()
    ticket_alert: _Alert = _Alert()


class _SLO(SpecModel):
    name: str
    objective: float
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    plugins: dict[str, Any] | None = None
    sli: _SLI
    alerting: _Alerting = _Alerting()


class SlothFile(SpecModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["prometheus/v1"]
    service: str
    labels: dict[str, str] = Field(default_factory=dict)
    slo_plugins: dict[str, Any] | None = None
    slos: list[_SLO] = Field(min_length=1)


def load_sloth(document: dict[str, Any], file: str) -> tuple[list[tuple[SLO, FieldLocator]], list[str]]:
    """Sloth document -> SLOs with locators, and warnings for what is ignored."""
    try:
        spec = SlothFile.model_validate(document)
    except ValidationError as exc:
        raise spec_error_from(exc, file) from None
    warnings = []
    if spec.slo_plugins:
        warnings.append(f"{file}: slo_plugins are Sloth-specific and ignored")
    results = []
    for index, item in enumerate(spec.slos):
        base = f"slos[{index}]"
        if item.sli.plugin is not None:
            raise SpecError("Sloth SLI plugins are not supported; use events or raw queries",
                            file=file, field=f"{base}.sli.plugin")
        if item.plugins:
            warnings.append(f"{file}: {base}.plugins are Sloth-specific and ignored")
        if item.sli.events is not None:
            prometheus = PrometheusSLI(error_query=item.sli.events.error_query,
                                       total_query=item.sli.events.total_query)
        else:
            assert item.sli.raw is not None
            prometheus = PrometheusSLI(error_ratio_query=item.sli.raw.error_ratio_query)
        alerting = item.alerting
        disabled = {sev for sev, alert in (("page", alerting.page_alert), ("ticket", alerting.ticket_alert))
                    if alert.disable}
        tiers = tuple(t for t in DEFAULT_TIERS if t.severity not in disabled)
        annotations = alerting.annotations
        slo = SLO(
            service=spec.service,
            name=item.name,
            objective=item.objective,
            sli=SLI("availability", prometheus=prometheus),
            window=SLOTH_WINDOW,
            tiers=tiers,
            description=item.description,
            labels={**spec.labels, **item.labels, **alerting.labels},
            runbook_url=annotations.get("runbook_url") or annotations.get("runbook"),
            source=file,
        )
        locator = FieldLocator(
            default=base,
            fields={"service": "service", "name": f"{base}.name", "objective": f"{base}.objective",
                    "labels": f"{base}.labels",
                    "sli.prometheus": f"{base}.sli.{'events' if item.sli.events else 'raw'}"},
            opaque={"tiers": f"{base}.alerting" if disabled else f"{base}.objective",
                    "window": "version"},
        )
        results.append((slo, locator))
    return results, warnings
