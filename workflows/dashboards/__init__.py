"""Dashboards defined once (sql/panels/panels.yml): generated as Grafana JSON for the
Athena data source, and rendered locally as a static HTML page from the same queries."""
from __future__ import annotations

from workflows.dashboards.panels import DashboardSpec, Panel, load_spec
from workflows.dashboards.render import PanelProblem, check_panels, render_dashboard

__all__ = ["DashboardSpec", "Panel", "PanelProblem", "check_panels", "load_spec", "render_dashboard"]
