"""Response models of the /v1/dashboard answers (sync.server.routes.dashboard).

Apart from sync.server.schemas, where the other staff models live, because with these that
module passed 400 lines, and these describe one package's output: the rows and figures are
sync.reports' dataclasses as sync.server.dashboard.views writes them (as_dict / asdict, dates
and times as ISO strings), so their models are made from the dataclasses (answer_model): a
field added there reaches the answer. tests/test_response_models.py checks every answer
comes out of its model unchanged."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import get_type_hints

from pydantic import BaseModel, create_model

from sync.reports.devices import DeviceRow
from sync.reports.progress import Progress
from sync.reports.quality import QualityFlag
from sync.reports.registrar import SimulationResult


class DashboardCampaign(BaseModel):
    id: str
    name: str
    goal: int
    deadline: str  # ISO date
    validity_rate: float
    stale_after_minutes: int
    timezone: str


class DashboardScope(BaseModel):
    teams: list[str] | None  # None: the whole drive


class FilingCount(BaseModel):
    ready: bool
    final: bool
    blocking: int


class DashboardFilingView(BaseModel):
    computed_at: str  # ISO 8601, as datetime.isoformat writes it
    campaign: DashboardCampaign
    scope: DashboardScope
    filing: FilingCount


def answer_model(source: type, name: str, **as_written: object) -> type[BaseModel]:
    """The model of a sync.reports dataclass as the views write it (asdict): every field of
    ``source`` with its own type, but for ``as_written``'s (field -> the type written, e.g.
    an ISO string for a date). Built from the dataclass, so a field added there is in the
    answer, never dropped by the route's model; every field is always written (required)."""
    hints = get_type_hints(source)
    unknown = set(as_written) - set(hints)
    if unknown:
        raise TypeError(f"{source.__name__} has no {sorted(unknown)}")
    fields: dict = {f.name: (as_written.get(f.name, hints[f.name]), ...) for f in dataclass_fields(source)}
    return create_model(name, __doc__=f"{source.__module__}.{source.__qualname__}, as written.",
                        **fields)


# last_sync, last_heartbeat: ISO 8601 strings (DeviceRow.as_dict); None: never synced, never seen
DeviceRowView = answer_model(DeviceRow, "DeviceRowView", last_sync=str | None,
                             last_heartbeat=str | None)


class DashboardDevicesView(BaseModel):
    computed_at: str
    campaign: DashboardCampaign
    scope: DashboardScope
    teams: list[str]  # every team of the devices in scope, before the team filter
    stale_count: int
    rows: list[DeviceRowView]


# Dates as ISO strings, the series as [ISO date, cumulative projected valid] (views.progress_dict)
ProgressFigures = answer_model(Progress, "ProgressFigures", deadline=str, today=str,
                               series=list[tuple[str, int]])


class DashboardProgressView(BaseModel):
    computed_at: str
    campaign: DashboardCampaign
    scope: DashboardScope
    progress: ProgressFigures


SimulationFigures = answer_model(SimulationResult, "SimulationFigures")


class DashboardSimulationView(BaseModel):
    computed_at: str
    simulation: SimulationFigures


QualityFlagView = answer_model(QualityFlag, "QualityFlagView")


class DashboardQualityView(BaseModel):
    computed_at: str
    drive_duplicate_rate: float
    flags: list[QualityFlagView]
