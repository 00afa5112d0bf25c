"""Dashboard specs changed for a test: a panel whose query fails on every engine the page uses
(dropping a view on one engine would not: the page answers on more than one)."""
from __future__ import annotations

import dataclasses

from workflows.dashboards.panels import DashboardSpec


def spec_with_sql(spec: DashboardSpec, panel_id: str, sql: str) -> DashboardSpec:
    panels = tuple(dataclasses.replace(p, sql=sql) if p.id == panel_id else p for p in spec.panels)
    assert panels != spec.panels, f"no panel {panel_id}"
    return dataclasses.replace(spec, panels=panels)
