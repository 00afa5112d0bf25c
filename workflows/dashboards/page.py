"""The local dashboard as one self-contained HTML page: inline CSS and SVG, no script, no
external resource, so it opens offline from the lake directory or an e-mail attachment."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.dashboards import charts
from workflows.dashboards.formatting import as_number, esc, format_value, humanize
from workflows.dashboards.panels import DashboardSpec, Panel

PX_PER_UNIT_W = 50
PX_PER_UNIT_H = 30
MAX_TABLE_ROWS = 100


@dataclass
class PanelData:
    """What one panel's query returned, or why it did not."""

    panel: Panel
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    sql: str = ""


@dataclass
class PageContext:
    time_from: str
    time_to: str
    variables: dict[str, list[str]]
    generated_at: str
    source: str


CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#212529;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#1f2937;color:#f8f9fa;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#ced4da;font-size:13px}
.meta{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:8px;font-size:12px;color:#adb5bd}
.meta b{color:#f8f9fa;font-weight:600}
main{padding:12px 20px 28px}
h2.section{font-size:15px;font-weight:600;margin:18px 4px 8px;color:#343a40;border-bottom:1px solid #dee2e6;padding-bottom:4px}
.grid{display:grid;grid-template-columns:repeat(24,minmax(0,1fr));gap:12px}
.panel{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:10px 12px;min-width:0;overflow:hidden}
.panel h3{margin:0;font-size:14px;font-weight:600}
.panel .desc{margin:2px 0 6px;color:#6c757d;font-size:12px}
.panel svg{display:block;width:100%;height:auto}
.repeat{display:grid;gap:12px}
.repeat h4{margin:4px 0 0;font-size:13px;color:#495057}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;color:#495057;margin-top:4px}
.legend i{display:inline-block;width:12px;height:8px;border-radius:2px;margin-right:4px;vertical-align:middle}
.tablewrap{max-height:420px;overflow:auto}
table{border-collapse:collapse;width:100%;font-size:12px}
th{position:sticky;top:0;background:#f8f9fa;text-align:left;font-weight:600;color:#495057;padding:5px 8px;border-bottom:1px solid #dee2e6;white-space:nowrap}
td{padding:4px 8px;border-bottom:1px solid #f1f3f5;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.c-green{color:#2b8a3e;font-weight:600}.c-red{color:#c92a2a;font-weight:600}
.c-orange{color:#d9480f;font-weight:600}.c-blue{color:#1864ab;font-weight:600}.c-grey{color:#868e96}
.stats{display:flex;flex-wrap:wrap;gap:10px}
.stat{flex:1 1 140px;background:#f8f9fa;border-radius:6px;padding:8px 12px}
.stat .v{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}
.stat .k{font-size:12px;color:#6c757d}
.empty,.error{padding:24px 12px;text-align:center;border-radius:4px}
.empty{color:#868e96;background:#f8f9fa}
.error{color:#c92a2a;background:#fff5f5;text-align:left;font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
.more{font-size:12px;color:#868e96;margin-top:4px}
footer{padding:0 24px 24px;color:#868e96;font-size:12px}
"""


def _legend(items: charts.Legend) -> str:
    if not items:
        return ""
    spans = "".join(f'<span><i style="background:{color}"></i>{esc(label)}</span>' for label, color in items)
    return f'<div class="legend">{spans}</div>'


def _color_class(panel: Panel, value: Any) -> str:
    key = format_value(value)
    color = panel.value_colors.get(key) or panel.value_colors.get(key.lower())
    return f"c-{color}" if color else ""


def table_html(panel: Panel, columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as an HTML table; numbers right-aligned, coloured values per value_colors."""
    head = "".join(f"<th>{esc(humanize(c))}</th>" for c in columns)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        cells = []
        for c in columns:
            value = row.get(c)
            classes = ["num"] if as_number(value) is not None else []
            color = _color_class(panel, value)
            if color:
                classes.append(color)
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{esc(format_value(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(rows) > MAX_TABLE_ROWS:
        more = f'<div class="more">{len(rows) - MAX_TABLE_ROWS} more rows not shown</div>'
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{more}')


def stat_html(panel: Panel, row: dict[str, Any]) -> str:
    tiles = []
    for column in panel.y:
        value = row.get(column)
        unit = "s" if column == "seconds" else panel.unit
        color = _color_class(panel, value)
        tiles.append(f'<div class="stat"><div class="v {color}">{esc(format_value(value, unit))}</div>'
                     f'<div class="k">{esc(humanize(column))}</div></div>')
    return f'<div class="stats">{"".join(tiles)}</div>'


def _chart(panel: Panel, rows: list[dict[str, Any]], width: int, height: int,
           series: str | None = None) -> tuple[str, charts.Legend]:
    if panel.type == "timeseries":
        return charts.timeseries_svg(rows, x=panel.x, y=panel.y, y2=panel.y2, series=series,
                                     unit=panel.unit, width=width, height=height, marks=panel.points)
    if panel.type == "bar" and panel.horizontal:
        return charts.hbar_svg(rows, x=panel.x, y=panel.y[0], unit=panel.unit,
                               color_by_sign=panel.color_by_sign, width=width, height=height)
    if panel.type == "bar":
        return charts.bar_svg(rows, x=panel.x, y=panel.y, series=panel.series, unit=panel.unit,
                              stacked=panel.stacked, color_by_sign=panel.color_by_sign, width=width,
                              height=height)
    return charts.heatmap_svg(rows, x=panel.x, value=panel.y[0], series=panel.series, unit=panel.unit,
                              width=width, height=height)


def _body(data: PanelData, ctx: PageContext) -> str:
    panel = data.panel
    if data.error:
        return f'<div class="error">query sql/panels/{esc(panel.sql_file)} failed:\n{esc(data.error)}</div>'
    if not data.rows:
        return '<div class="empty">No data in this time range</div>'
    if panel.type == "table":
        return table_html(panel, data.columns, data.rows)
    if panel.type == "stat":
        return stat_html(panel, data.rows[0])
    width = panel.width * PX_PER_UNIT_W
    height = panel.height * PX_PER_UNIT_H - 50
    if panel.repeat:
        copies = []
        key = panel.series or panel.repeat
        for value in ctx.variables.get(panel.repeat, []):
            subset = [r for r in data.rows if str(r.get(key)) == value]
            # one copy per value: the value is the copy's title, not a series in its legend
            svg, legend = _chart(panel, subset, width, height) if subset else ("", [])
            inner = svg + _legend(legend) if svg else '<div class="empty">No data</div>'
            copies.append(f'<div style="grid-column:span {panel.width}"><h4>{esc(value)}</h4>{inner}</div>')
        return f'<div class="repeat" style="grid-template-columns:repeat(24,minmax(0,1fr))">{"".join(copies)}</div>'
    svg, legend = _chart(panel, data.rows, width, height, series=panel.series)
    if not svg:
        return '<div class="empty">No numeric values to draw</div>'
    return svg + _legend(legend)


def panel_html(data: PanelData, ctx: PageContext) -> str:
    panel = data.panel
    span = 24 if panel.repeat else panel.width
    return (f'<section class="panel" data-panel-id="{esc(panel.id)}" data-panel-type="{panel.type}" '
            f'style="grid-column:span {span}"><h3>{esc(panel.title)}</h3>'
            f'<p class="desc">{esc(panel.description)}</p>{_body(data, ctx)}</section>')


def render_page(spec: DashboardSpec, panels: list[PanelData], ctx: PageContext,
                extras: dict[str, list[str]] | None = None) -> str:
    """The whole page; panels appear in their sections in panels.yml order. `extras`: panels
    drawn outside panels.yml (already HTML), appended to the section they name."""
    return assemble_page(spec, {d.panel.id: panel_html(d, ctx) for d in panels}, ctx, extras)


def assemble_page(spec: DashboardSpec, drawn: dict[str, str], ctx: PageContext,
                  extras: dict[str, list[str]] | None = None) -> str:
    """The whole page from each panel's HTML already drawn (panel_html, by panel id), so a
    caller can draw a panel as soon as its query answers."""
    sections = []
    for name, members in spec.sections():
        inner = "".join(drawn[p.id] for p in members if p.id in drawn)
        inner += "".join((extras or {}).get(name, []))
        sections.append(f'<h2 class="section">{esc(name)}</h2><div class="grid">{inner}</div>')
    variables = "".join(f"<span>{esc(name)}: <b>{esc(', '.join(values))}</b></span>"
                        for name, values in ctx.variables.items())
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(spec.title)} dashboard</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(spec.title)}</h1><p>{esc(spec.description)}</p>"
        f'<div class="meta"><span>time range: <b>{esc(ctx.time_from)} → {esc(ctx.time_to)}</b></span>'
        f"{variables}<span>generated: <b>{esc(ctx.generated_at)}</b></span>"
        f"<span>source: <b>{esc(ctx.source)}</b></span></div></header>"
        f"<main>{''.join(sections)}</main>"
        f"<footer>The same panels as the Grafana dashboard “{esc(spec.uid)}”, from sql/panels/panels.yml. "
        "Re-render with <code>tickerlake dashboard</code>.</footer></body></html>\n"
    )
