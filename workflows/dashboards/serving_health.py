"""The dashboard's serving-table health, in the "Data health" section of the local page: how
far the serving table is behind what was published (the newest published version against the
newest version in the serving table, with their run ids), both sides' row counts, and what the
last full comparison (`tickerlake serve verify`) found. The full comparison reads every row of
both sides, minutes on a large lake, so the page shows its last result instead of running it.

It is not an Athena panel: the serving table is DynamoDB or SQLite, not a table Athena (or
Grafana's Athena data source) can query, so it is computed in Python and rendered here only.
On AWS the same lag shows as the loader queue's alarms (oldest message age, dead-letter depth).
A failure to read it shows in its place; the page is still written."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from glue_jobs.serve.consistency import Glance
from workflows.dashboards.formatting import esc

log = logging.getLogger(__name__)

SECTION = "Data health"
PANEL_ID = "serving_health"


@dataclass
class ServingHealth:
    glance: Glance | None = None
    error: str | None = None  # why it could not be read
    absent: str | None = None  # why there is nothing to show (no serving table yet)


def collect(compute: Callable[[], Glance] | None, absent: str | None = None) -> ServingHealth:
    """Run `compute` (the lag, the counts, the last verify), keeping its failure as the panel's text."""
    if compute is None:
        return ServingHealth(absent=absent or "no serving table in this lake yet")
    try:
        glance = compute()
    except Exception as exc:  # the dashboard shows what it can; this panel says why it cannot
        log.warning("serving health failed: %s", exc, exc_info=True)
        return ServingHealth(error=f"{type(exc).__name__}: {exc}")
    return ServingHealth(glance=glance)


def _stat(value: str, label: str, color: str = "") -> str:
    cls = f" c-{color}" if color else ""
    return f'<div class="stat"><div class="v{cls}">{esc(value)}</div><div class="k">{esc(label)}</div></div>'


def panel_html(health: ServingHealth) -> str:
    """The panel, as the page's other panels are drawn (a section.panel with stat tiles)."""
    head = (f'<section class="panel" data-panel-id="{PANEL_ID}" data-panel-type="stat" style="grid-column:span 24">'
            "<h3>Serving table</h3><p class=\"desc\">Lag behind what was published (versions are run ids), rows "
            "served against rows published, and what the last full comparison with stocks.daily_prices found "
            "(tickerlake serve verify).</p>")
    if health.error:
        return head + f'<div class="error">serving table health could not be read:\n{esc(health.error)}</div></section>'
    if health.absent or health.glance is None:
        return head + f'<div class="empty">{esc(health.absent or "no serving table")}</div></section>'
    g = health.glance
    lag, verify = g.lag, g.last_verify
    behind = "up to date" if lag.caught_up else f"{lag.versions_behind} behind"
    counts_equal = g.rows_serving == g.rows_published
    if verify is None:
        verified, verified_color = "never", "red"
    else:
        verified = "equal" if verify["equal"] else f"{verify['symbols_differing']} symbols differ"
        verified_color = "green" if verify["equal"] else "red"
    tiles = [
        _stat(behind, "lag (published versions not yet served)", "green" if lag.caught_up else "red"),
        _stat(lag.newest_published or "none", "newest published version (run id)"),
        _stat(lag.newest_serving or "none", "newest version in the serving table (run id)"),
        _stat(f"{g.rows_serving:,} / {g.rows_published:,}", "rows served / published",
              "green" if counts_equal else "red"),
        _stat(verified, "last full comparison" + (f" ({verify['at']})" if verify else ": run tickerlake serve verify"),
              verified_color),
    ]
    body = f'<div class="stats">{"".join(tiles)}</div><p class="desc">{esc(lag.describe())}</p>'
    differences = (verify or {}).get("differences") or []
    unreadable = (verify or {}).get("unreadable") or []
    if differences or unreadable:
        rows = "".join(f"<tr><td>{esc(d['symbol'])}</td><td>{esc(d['trade_date'])}</td><td>{esc(d['kind'])}</td>"
                       f"<td>{esc(', '.join(f'{n}: {p} vs {s}' for n, p, s in d['fields']))}</td></tr>"
                       for d in differences)
        rows += "".join(f"<tr><td colspan=\"3\">unreadable partition</td><td>{esc(u)}</td></tr>" for u in unreadable)
        body += ('<div class="tablewrap"><table><thead><tr><th>Symbol</th><th>Trade date</th><th>Difference</th>'
                 f"<th>Values (published vs serving)</th></tr></thead><tbody>{rows}</tbody></table></div>"
                 '<div class="more">all differences: tickerlake serve verify</div>')
    return head + body + "</section>"
