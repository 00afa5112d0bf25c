"""The dashboard's serving-table health, in the "Data health" section of the local page: how
far the serving table is behind what was published (the newest published version against the
newest version in the serving table, with their run ids) and where the two differ (the
comparison of `tickerlake serve verify`).

It is not an Athena panel: the serving table is DynamoDB or SQLite, not a table Athena (or
Grafana's Athena data source) can query, so it is computed in Python and rendered here only.
On AWS the same lag shows as the loader queue's alarms (oldest message age, dead-letter depth).
A failure to read it shows in its place; the page is still written."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from glue_jobs.serve.compare import Lag, VerifyReport
from workflows.dashboards.formatting import esc

log = logging.getLogger(__name__)

SECTION = "Data health"
PANEL_ID = "serving_health"
SHOWN_DIFFERENCES = 10


@dataclass
class ServingHealth:
    lag: Lag | None = None
    report: VerifyReport | None = None
    error: str | None = None  # why it could not be read
    absent: str | None = None  # why there is nothing to show (no serving table yet)


def collect(compute: Callable[[], tuple[VerifyReport, Lag]] | None, absent: str | None = None) -> ServingHealth:
    """Run `compute` (verify's comparison and the lag), keeping its failure as the panel's text."""
    if compute is None:
        return ServingHealth(absent=absent or "no serving table in this lake yet")
    try:
        report, lag = compute()
    except Exception as exc:  # the dashboard shows what it can; this panel says why it cannot
        log.warning("serving health failed: %s", exc, exc_info=True)
        return ServingHealth(error=f"{type(exc).__name__}: {exc}")
    return ServingHealth(lag=lag, report=report)


def _stat(value: str, label: str, color: str = "") -> str:
    cls = f" c-{color}" if color else ""
    return f'<div class="stat"><div class="v{cls}">{esc(value)}</div><div class="k">{esc(label)}</div></div>'


def panel_html(health: ServingHealth) -> str:
    """The panel, as the page's other panels are drawn (a section.panel with stat tiles)."""
    head = (f'<section class="panel" data-panel-id="{PANEL_ID}" data-panel-type="stat" style="grid-column:span 24">'
            "<h3>Serving table</h3><p class=\"desc\">Lag behind what was published (versions are run ids) and "
            "rows that differ from stocks.daily_prices (tickerlake serve verify).</p>")
    if health.error:
        return head + f'<div class="error">serving table health could not be read:\n{esc(health.error)}</div></section>'
    if health.absent or health.lag is None or health.report is None:
        return head + f'<div class="empty">{esc(health.absent or "no serving table")}</div></section>'
    lag, report = health.lag, health.report
    behind = "up to date" if lag.caught_up else f"{lag.versions_behind} behind"
    tiles = [
        _stat(behind, "lag (published versions not yet served)", "green" if lag.caught_up else "red"),
        _stat(lag.newest_published or "none", "newest published version (run id)"),
        _stat(lag.newest_serving or "none", "newest version in the serving table (run id)"),
        _stat(str(len(report.mismatched)), "symbols that differ", "green" if report.equal else "red"),
        _stat(f"{report.rows_serving:,} / {report.rows_published:,}", "rows served / published"),
    ]
    body = f'<div class="stats">{"".join(tiles)}</div><p class="desc">{esc(lag.describe())}</p>'
    if report.differences or report.unreadable:
        rows = "".join(f"<tr><td>{esc(d.symbol)}</td><td>{esc(d.trade_date)}</td><td>{esc(d.kind)}</td>"
                       f"<td>{esc(', '.join(f'{n}: {p} vs {s}' for n, p, s in d.fields))}</td></tr>"
                       for d in report.differences[:SHOWN_DIFFERENCES])
        rows += "".join(f"<tr><td colspan=\"3\">unreadable partition</td><td>{esc(u)}</td></tr>"
                        for u in report.unreadable)
        more = len(report.differences) - SHOWN_DIFFERENCES
        body += ('<div class="tablewrap"><table><thead><tr><th>Symbol</th><th>Trade date</th><th>Difference</th>'
                 f"<th>Values (published vs serving)</th></tr></thead><tbody>{rows}</tbody></table></div>"
                 + (f'<div class="more">{more} more differences: tickerlake serve verify</div>' if more > 0 else ""))
    return head + body + "</section>"
