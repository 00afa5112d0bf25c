"""The alerting step of after_publish: query the newest published bars (sql/alerts/), run
the rules, send what was not sent before through the run's Notifier, record it in the lake."""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from glue_jobs.after.alerts import sent
from glue_jobs.after.alerts.config import AlertConfig, load_config
from glue_jobs.after.alerts.rules import Bar, alert_window_start, evaluate
from glue_jobs.lake import sql_files, trading_calendar
from glue_jobs.lake.context import RunContext

log = logging.getLogger(__name__)

VOLUME_WINDOW = 20  # sessions in sql/alerts/recent_bars.sql's average


def _bar(row: dict[str, Any]) -> Bar:
    return Bar(
        symbol=row["symbol"], trade_date=row["trade_date"], close=float(row["close"]),
        volume=None if row.get("volume") is None else int(row["volume"]),
        prev_close=None if row.get("prev_close") is None else float(row["prev_close"]),
        prev_trade_date=row.get("prev_trade_date"),
        avg_volume_20d=None if row.get("avg_volume_20d") is None else float(row["avg_volume_20d"]),
        prior_sessions=int(row.get("prior_sessions") or 0),
    )


def load_bars(ctx: RunContext, config: AlertConfig) -> list[Bar]:
    """Bars of the alert window with their previous close and prior 20-session volume."""
    start = alert_window_start(ctx.as_of, config)
    # the window functions need VOLUME_WINDOW sessions before the first bar alerted on
    history_from = trading_calendar.last_sessions(start, VOLUME_WINDOW + 1)[0]
    sql = sql_files.render("alerts/recent_bars.sql", {
        "first_year": history_from.year, "history_from": history_from, "alert_from": start, "as_of": ctx.as_of,
    })
    return [_bar(row) for row in ctx.engine.query(sql).to_pylist()]


def load_newest(ctx: RunContext) -> dict[str, dt.date | None]:
    """Newest bar per symbol: the configured symbols when the run has a list (a symbol with
    no bar at all is stale too), else every symbol in the lake."""
    # a series more than a year behind is stale whatever its date: no need to scan older years
    sql = sql_files.render("alerts/newest_bars.sql", {"first_year": ctx.as_of.year - 1})
    newest = {row["symbol"]: row["newest_trade_date"] for row in ctx.engine.query(sql).to_pylist()}
    symbols = ctx.settings.get("symbols")
    if symbols:
        return {s: newest.get(s) for s in symbols}
    return newest


def raise_alerts(ctx: RunContext, *, config: AlertConfig | None = None) -> dict[str, Any]:
    """Evaluate the rules after a publish and send each alert once, however often a day
    re-runs. Returns counts for the run log."""
    config = config or load_config(ctx.settings)
    alerts = evaluate(load_bars(ctx, config), load_newest(ctx), as_of=ctx.as_of, config=config,
                      run_id=ctx.run_id)
    fresh = sent.unsent(ctx.storage, alerts)
    if fresh:
        ctx.notifier.send(fresh)
        sent.mark_sent(ctx.storage, fresh)
    for alert in fresh:
        log.info("alert sent: %s", alert.subject)
    return {
        "alerts_raised": len(alerts),
        "alerts_sent": len(fresh),
        "alerts_already_sent": len(alerts) - len(fresh),
        "alerts_by_rule": dict(sorted(Counter(a.rule for a in fresh).items())),
    }


def run(ctx: RunContext) -> dict:
    """The after_publish hook: raise this run's alerts."""
    return raise_alerts(ctx)
