"""Where the synthetic walk starts: each symbol's last published close before the session,
read from stocks.daily_prices through the engine. A symbol the lake has not published (or a
lake with no daily table yet) falls back, with a warning naming it, to the close of the
synthetic daily series for the session before (ingestion/synthetic), which `tickerlake run`
would publish: reproducible, and in the range a first run's prices are."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from glue_jobs.lake import sql_files
from glue_jobs.lake.trading_calendar import previous_session
from glue_jobs.ports.engine import Engine

log = logging.getLogger(__name__)
_CENTS4 = Decimal("0.0001")


@dataclass(frozen=True)
class Anchor:
    symbol: str
    close: Decimal
    volume: int
    trade_date: str
    published: bool  # False: the synthetic daily series' close stood in


def published_closes(engine: Engine | None, symbols: list[str], session_day: dt.date) -> dict[str, Anchor]:
    """The last published close before `session_day` of each symbol that has one."""
    if engine is None:
        return {}
    sql = sql_files.render("stream/last_close.sql", {"symbols": symbols, "session_day": session_day})
    try:
        table = engine.query(sql)
    except Exception as exc:  # a lake with no published table yet: every symbol falls back
        log.info("no published closes (%s: %s)", type(exc).__name__, exc)
        return {}
    out = {}
    for row in table.to_pylist():
        if row["close"] is None or row["close"] <= 0:
            continue
        out[row["symbol"]] = Anchor(row["symbol"], Decimal(repr(float(row["close"]))).quantize(_CENTS4, ROUND_HALF_UP),
                                    int(row["volume"] or 0), str(row["trade_date"]), True)
    return out


def anchors_for(engine: Engine | None, symbols: list[str], session_day: dt.date, *, seed: int = 0,
                warn=log.warning) -> dict[str, Anchor]:
    """An anchor for every symbol: the published close, else the synthetic series' (warned)."""
    found = published_closes(engine, symbols, session_day)
    missing = [s for s in symbols if s not in found]
    if missing:
        from ingestion.synthetic.source import SyntheticSource

        day = previous_session(session_day)
        source = SyntheticSource(seed=seed)
        for symbol in missing:
            bar = source.bars(symbol, as_of=day)[0]  # newest first
            found[symbol] = Anchor(symbol, Decimal(str(bar.close)), int(bar.volume), str(bar.trade_date), False)
        warn(f"no published close before {session_day} for {', '.join(missing)}: the walk starts from the "
             f"synthetic daily series' close of {day} (run `tickerlake run` to publish closes)")
    return found
