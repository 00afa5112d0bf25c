"""Grafana dashboard JSON for the Athena data source plugin (grafana-athena-datasource),
generated from the panel definitions, plus the panels that read CloudWatch
(workflows/dashboards/grafana_cloudwatch.py: the intraday consumer's lag). The committed copy under infra/grafana/dashboards/
is checked against this output by a test, so the two cannot drift.

    python -m workflows.dashboards.grafana --write   # regenerate the committed JSON
    python -m workflows.dashboards.grafana --check   # exit 1 if it is out of date
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workflows.dashboards import constants, grafana_cloudwatch
from workflows.dashboards.panels import DashboardSpec, Panel, load_spec

PLUGIN_ID = "grafana-athena-datasource"
SCHEMA_VERSION = 39
# The plugin's FormatOptions enum: 0 time series, 1 table.
FORMAT_TIME_SERIES = 0
FORMAT_TABLE = 1
# "__default" tells the plugin to use the data source's configured region/catalog/database.
DEFAULT_CONNECTION = {"region": "__default", "catalog": "__default", "database": "__default"}
GRAFANA_TYPES = {"timeseries": "timeseries", "bar": "barchart", "heatmap": "heatmap", "table": "table",
                 "stat": "stat"}
COLOR_NAMES = {"green": "green", "red": "red", "orange": "orange", "blue": "blue", "grey": "text"}


def dashboard_path(repo_root: Path | None = None) -> Path:
    root = repo_root or Path(__file__).resolve().parents[2]
    return root / "infra" / "grafana" / "dashboards" / "tickerlake.json"


def _datasource(spec: DashboardSpec) -> dict[str, str]:
    return {"type": PLUGIN_ID, "uid": spec.datasource_uid}


def _target(spec: DashboardSpec, sql: str, fmt: int, ref: str = "A") -> dict[str, Any]:
    return {
        "refId": ref,
        "datasource": _datasource(spec),
        "format": fmt,
        "rawSQL": sql,
        "connectionArgs": dict(DEFAULT_CONNECTION),
    }


def _value_mappings(colors: dict[str, str]) -> list[dict[str, Any]]:
    if not colors:
        return []
    options = {
        value: {"color": COLOR_NAMES[color], "index": index}
        for index, (value, color) in enumerate(sorted(colors.items()))
    }
    return [{"type": "value", "options": options}]


def _field_config(panel: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit, "mappings": _value_mappings(panel.value_colors)}
    overrides: list[dict[str, Any]] = []
    if panel.type == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never",
                              "spanNulls": False}
        for column in panel.y2:
            overrides.append({
                "matcher": {"id": "byRegexp", "options": f"^{column}.*"},
                "properties": [
                    {"id": "custom.drawStyle", "value": "bars"},
                    {"id": "custom.fillOpacity", "value": 35},
                    {"id": "custom.axisPlacement", "value": "right"},
                    {"id": "unit", "value": "short"},
                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "text"}},
                ],
            })
        for column in panel.points:
            overrides.append({
                "matcher": {"id": "byRegexp", "options": f"^{column}.*"},
                "properties": [
                    {"id": "custom.drawStyle", "value": "points"},
                    {"id": "custom.showPoints", "value": "always"},
                    {"id": "custom.pointSize", "value": 9},
                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
                ],
            })
    elif panel.type == "bar":
        defaults["custom"] = {"fillOpacity": 80, "lineWidth": 1}
        if panel.color_by_sign:
            defaults["color"] = {"mode": "thresholds"}
            defaults["thresholds"] = {"mode": "absolute", "steps": [
                {"color": "red", "value": None}, {"color": "green", "value": 0}]}
    elif panel.type == "table":
        defaults["custom"] = {"align": "auto", "cellOptions": {"type": "color-text" if panel.value_colors
                                                               else "auto"}}
    elif panel.type == "stat":
        defaults["color"] = {"mode": "fixed", "fixedColor": "text"}
    return {"defaults": defaults, "overrides": overrides}


def _options(panel: Panel) -> dict[str, Any]:
    legend = {"displayMode": "list", "placement": "bottom", "showLegend": True}
    if panel.type == "timeseries":
        return {"legend": legend, "tooltip": {"mode": "multi", "sort": "none"}}
    if panel.type == "bar":
        return {
            "xField": panel.x,
            "orientation": "horizontal" if panel.horizontal else "auto",
            "stacking": "normal" if panel.stacked else "none",
            "showValue": "auto",
            "groupWidth": 0.7,
            "barWidth": 0.9,
            "legend": legend,
            "tooltip": {"mode": "multi", "sort": "none"},
        }
    if panel.type == "heatmap":
        return {
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "RdYlGn", "steps": 64, "exponent": 0.5, "reverse": False},
            "yAxis": {"axisPlacement": "left"},
            "rowsFrame": {"layout": "auto"},
            "legend": {"show": True},
            "tooltip": {"mode": "single", "yHistogram": False},
        }
    if panel.type == "table":
        return {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    return {  # stat
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "/.*/", "values": False},
        "colorMode": "value",
        "graphMode": "none",
        "textMode": "value_and_name",
        "justifyMode": "auto",
        "orientation": "auto",
    }


def _panel_json(spec: DashboardSpec, panel: Panel, number: int, pos: dict[str, int]) -> dict[str, Any]:
    fmt = FORMAT_TIME_SERIES if panel.type in ("timeseries", "heatmap") else FORMAT_TABLE
    out: dict[str, Any] = {
        "id": number,
        "type": GRAFANA_TYPES[panel.type],
        "title": panel.title + (f" — ${panel.repeat}" if panel.repeat else ""),
        # Where to change it: the panel's id in panels.yml and its SQL file.
        "description": f"{panel.description}\n\nDefined in sql/panels/panels.yml as `{panel.id}`, "
                       f"query sql/panels/{panel.sql_file}.".strip(),
        "datasource": _datasource(spec),
        "gridPos": pos,
        "targets": [_target(spec, panel.sql.strip(), fmt)],
        "fieldConfig": _field_config(panel),
        "options": _options(panel),
    }
    if panel.type == "bar" and panel.series:
        # Table frames arrive long (x, series, value); a bar chart wants one column per series.
        out["transformations"] = [{"id": "groupingToMatrix", "options": {
            "rowField": panel.x, "columnField": panel.series, "valueField": panel.y[0],
            "emptyValue": "zero"}}]
        del out["options"]["xField"]  # the matrix's first column, whatever Grafana names it
    if panel.repeat:
        out.update({"repeat": panel.repeat, "repeatDirection": "h", "maxPerRow": max(1, 24 // panel.width)})
    return out


def _layout(spec: DashboardSpec) -> list[dict[str, Any]]:
    """Rows per section, panels placed left to right and wrapped at 24 columns."""
    panels: list[dict[str, Any]] = []
    y = 0
    number = 1
    for section, members in spec.sections():
        panels.append({"id": number, "type": "row", "title": section, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        number += 1
        y += 1
        x = 0
        row_height = 0
        placed = [(p.width, p.height, lambda n, pos, p=p: _panel_json(spec, p, n, pos)) for p in members]
        for width, height, build in placed + grafana_cloudwatch.PANELS.get(section, []):
            if x + width > 24:
                y += row_height
                x, row_height = 0, 0
            pos = {"h": height, "w": width, "x": x, "y": y}
            panels.append(build(number, pos))
            number += 1
            x += width
            row_height = max(row_height, height)
        y += row_height
    return panels


def _variable_json(spec: DashboardSpec) -> list[dict[str, Any]]:
    out = []
    for var in spec.variables:
        query = _target(spec, var.sql.strip(), FORMAT_TABLE)
        out.append({
            "name": var.name,
            "label": var.label,
            "type": "query",
            "datasource": _datasource(spec),
            "query": query,
            "definition": var.sql.strip(),
            "refresh": 1,  # on dashboard load: new symbols appear without editing the dashboard
            "multi": var.multi,
            "includeAll": var.include_all,
            "current": {},
            "options": [],
            "sort": 1,
            "hide": 0,
        })
    return out


def build_dashboard(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard model Grafana's file provider loads."""
    return {
        "uid": spec.uid,
        "title": spec.title,
        "description": spec.description,
        "tags": list(spec.tags),
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": spec.refresh,
        "time": {"from": spec.time_from, "to": spec.time_to},
        "timepicker": {},
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": _variable_json(spec) + [grafana_cloudwatch.stack_variable()]
                       + constants.grafana_variables()},
        "panels": _layout(spec),
    }


def render_json(spec: DashboardSpec | None = None) -> str:
    """The dashboard as the exact text committed under infra/grafana/dashboards/."""
    model = build_dashboard(spec or load_spec())
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the committed dashboard JSON")
    parser.add_argument("--check", action="store_true", help="fail if the committed JSON is out of date")
    args = parser.parse_args(argv)
    text = render_json()
    path = dashboard_path()
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is out of date: run python -m workflows.dashboards.grafana --write", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
