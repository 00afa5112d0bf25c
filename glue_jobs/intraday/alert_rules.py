"""The intraday alert rules (pure), on the thresholds of sql/alerts/alerts.yml: an anomaly
(|change %| against the previous close beyond daily_move.percent) and a price-level crossing
(price_levels) between two quotes of a session. Each is keyed by rule, symbol and session
(Alert.dedupe_key), so it is sent once a session however often the stream is replayed."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from glue_jobs.intraday.enrich import Enriched
from glue_jobs.ports.notifier import Alert

ANOMALY = "intraday_move"
CROSS = "intraday_price_cross"


class AlertConfig(Protocol):
    """What these rules read of the alert configuration (glue_jobs.after.alerts.AlertConfig,
    which the wiring in workflows/intraday.py passes in: stages do not import each other)."""
    daily_move_percent: float
    price_levels: Mapping[str, Sequence[Any]]  # symbol -> PriceLevel(level, directions)


def anomaly(e: Enriched, config: AlertConfig, run_id: str) -> Alert | None:
    q = e.quote
    if not q.anomaly:
        return None
    return Alert(
        rule=ANOMALY, subject=f"{q.symbol} at {q.price} is {q.change_percent:+}% from its previous close",
        message=(f"{q.symbol} traded at {q.price} during the {q.session} session, {q.change_percent:+}% from the "
                 f"previous close {q.previous_close} (alert beyond ±{config.daily_move_percent:g}%)."),
        run_id=run_id, symbol=q.symbol, trade_date=q.session,
        details={"price": str(q.price), "previous_close": str(q.previous_close),
                 "change_percent": str(q.change_percent), "threshold_pct": config.daily_move_percent,
                 "event_time_ms": q.event_time_ms},
    )


def crossing(e: Enriched, config: AlertConfig, run_id: str) -> Alert | None:
    q, before = e.quote, e.previous_price
    levels = config.price_levels.get(q.symbol.upper(), ())
    if before is None or not levels:
        return None
    crossed = []
    for level in levels:
        if "up" in level.directions and before < level.level <= q.price:
            crossed.append(("up", level.level))
        elif "down" in level.directions and before > level.level >= q.price:
            crossed.append(("down", level.level))
    if not crossed:
        return None
    words = ", ".join(f"{d} through {lv:,.2f}" for d, lv in crossed)
    return Alert(
        rule=CROSS, subject=f"{q.symbol} crossed {words} during the {q.session} session",
        message=f"{q.symbol} traded at {q.price} after {before}: it crossed {words}.",
        run_id=run_id, symbol=q.symbol, trade_date=q.session,
        details={"price": str(q.price), "previous_price": str(before),
                 "crossed": [{"direction": d, "level": lv} for d, lv in crossed]},
    )


def evaluate(enriched: Iterable[Enriched], config: AlertConfig, run_id: str) -> list[Alert]:
    """The alerts of a batch in stream order, one per dedupe key (the first quote that raised it)."""
    out: dict[str, Alert] = {}
    for e in enriched:
        for alert in (anomaly(e, config, run_id), crossing(e, config, run_id)):
            if alert is not None:
                out.setdefault(alert.dedupe_key, alert)
    return list(out.values())


def throttle(alerts: list[Alert], limit: int, run_id: str) -> list[Alert]:
    """At most `limit` alerts go out one by one; the rest travel in one summary alert (a wild
    session must not page 500 times), still each recorded as sent through its own key."""
    if len(alerts) <= limit:
        return alerts
    kept, folded = alerts[:limit], alerts[limit:]
    summary = Alert(
        rule="intraday_summary", subject=f"{len(folded)} more intraday alerts",
        message="\n".join(a.subject for a in folded), run_id=run_id,
        trade_date=folded[0].dedupe_key,  # one summary per first alert folded, not one per session
        details={"dedupe_keys": [a.dedupe_key for a in folded]})
    return [*kept, summary]
