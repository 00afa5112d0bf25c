"""The alert rules: pure functions from bars and thresholds to Alerts, no I/O.

Each alert's dedupe key is rule|symbol|date (see Alert.dedupe_key), so evaluating the same
bars again yields the same keys and the sender can skip what it already sent."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from glue_jobs.after.alerts.config import AlertConfig
from glue_jobs.lake import trading_calendar
from glue_jobs.ports.notifier import Alert


@dataclass(frozen=True)
class Bar:
    """One published bar and what the rules compare it to."""

    symbol: str
    trade_date: dt.date
    close: float
    volume: int | None = None
    prev_close: float | None = None
    prev_trade_date: dt.date | None = None
    avg_volume_20d: float | None = None
    prior_sessions: int = 0


def _pct(value: float) -> str:
    return f"{value:+.2f}%"


def price_cross(bars: Iterable[Bar], config: AlertConfig, run_id: str) -> list[Alert]:
    """A close on the other side of a configured level than the previous close. Several
    levels crossed by one bar make one alert (one per symbol and day)."""
    out = []
    for bar in bars:
        levels = config.price_levels.get(bar.symbol.upper(), ())
        if not levels or bar.prev_close is None:
            continue
        crossed = []
        for level in levels:
            if "up" in level.directions and bar.prev_close < level.level <= bar.close:
                crossed.append(("up", level.level))
            elif "down" in level.directions and bar.prev_close > level.level >= bar.close:
                crossed.append(("down", level.level))
        if not crossed:
            continue
        words = ", ".join(f"{d} through {lv:,.2f}" for d, lv in crossed)
        out.append(Alert(
            rule="price_cross",
            subject=f"{bar.symbol} crossed {words} on {bar.trade_date}",
            message=(f"{bar.symbol} closed at {bar.close:,.2f} on {bar.trade_date}, after {bar.prev_close:,.2f} "
                     f"on {bar.prev_trade_date or 'the session before'}: it crossed {words}."),
            run_id=run_id, symbol=bar.symbol, trade_date=bar.trade_date.isoformat(),
            details={"close": bar.close, "prev_close": bar.prev_close,
                     "crossed": [{"direction": d, "level": lv} for d, lv in crossed]},
        ))
    return out


def daily_move(bars: Iterable[Bar], config: AlertConfig, run_id: str) -> list[Alert]:
    """A close more than N percent away from the previous session's close."""
    out = []
    for bar in bars:
        if not bar.prev_close:
            continue
        # rounded so that exactly N percent (105 after 100) is not "beyond" by float noise
        move = round((bar.close / bar.prev_close - 1) * 100, 6)
        if abs(move) <= config.daily_move_percent:
            continue
        out.append(Alert(
            rule="daily_move",
            subject=f"{bar.symbol} moved {_pct(move)} on {bar.trade_date}",
            message=(f"{bar.symbol} closed at {bar.close:,.2f} on {bar.trade_date}, {_pct(move)} from "
                     f"{bar.prev_close:,.2f} (alert beyond ±{config.daily_move_percent:g}%). A move near "
                     "-50% with no news may be an unadjusted split."),
            run_id=run_id, symbol=bar.symbol, trade_date=bar.trade_date.isoformat(),
            details={"move_pct": round(move, 4), "close": bar.close, "prev_close": bar.prev_close,
                     "threshold_pct": config.daily_move_percent},
        ))
    return out


def volume_spike(bars: Iterable[Bar], config: AlertConfig, run_id: str) -> list[Alert]:
    """Volume above K times the average of the 20 sessions before, once there are enough of them."""
    out = []
    for bar in bars:
        if bar.volume is None or not bar.avg_volume_20d or bar.prior_sessions < config.volume_min_sessions:
            continue
        ratio = bar.volume / bar.avg_volume_20d
        if ratio <= config.volume_ratio:
            continue
        out.append(Alert(
            rule="volume_spike",
            subject=f"{bar.symbol} traded {ratio:.1f}x its 20-day average volume on {bar.trade_date}",
            message=(f"{bar.symbol} traded {bar.volume:,} shares on {bar.trade_date}, {ratio:.1f} times the "
                     f"average of the {bar.prior_sessions} sessions before ({bar.avg_volume_20d:,.0f}); "
                     f"alert above {config.volume_ratio:g}x."),
            run_id=run_id, symbol=bar.symbol, trade_date=bar.trade_date.isoformat(),
            details={"volume": bar.volume, "avg_volume_20d": round(bar.avg_volume_20d, 2),
                     "ratio": round(ratio, 4), "threshold_ratio": config.volume_ratio},
        ))
    return out


def stale_series(newest: Mapping[str, dt.date | None], last_session: dt.date, config: AlertConfig,
                 run_id: str) -> list[Alert]:
    """A symbol whose newest bar is older than the last completed session (beyond the grace).
    Keyed on the missed session, so a series that stays stale alerts once per session."""
    if not config.stale_enabled:
        return []
    out = []
    for symbol in sorted(newest):
        bar_date = newest[symbol]
        if bar_date is not None and bar_date >= last_session:
            continue
        if bar_date is None:
            behind = None
            detail = "has no bars in the lake"
        else:
            behind = len(trading_calendar.sessions_between(bar_date + dt.timedelta(days=1), last_session))
            if behind <= config.stale_grace_sessions:
                continue
            detail = f"has {bar_date} as its newest bar, {behind} session(s) behind"
        out.append(Alert(
            rule="stale_series",
            subject=f"{symbol} is stale: no bar for {last_session}",
            message=(f"{symbol} {detail} the last completed session {last_session}. Check the run log for "
                     "its fetch (quota, a rejected answer, a delisted symbol)."),
            run_id=run_id, symbol=symbol, trade_date=last_session.isoformat(),
            details={"newest_trade_date": bar_date.isoformat() if bar_date else None,
                     "sessions_behind": behind, "last_session": last_session.isoformat()},
        ))
    return out


def alert_window_start(as_of: dt.date, config: AlertConfig) -> dt.date:
    """The first session whose bars may raise alerts: the newest `lookback_sessions` up to as_of."""
    return trading_calendar.last_sessions(as_of, config.lookback_sessions)[0]


def evaluate(bars: Iterable[Bar], newest: Mapping[str, dt.date | None], *, as_of: dt.date,
             config: AlertConfig, run_id: str) -> list[Alert]:
    """Every rule on the bars inside the alert window; one alert per dedupe key, in a stable order."""
    start = alert_window_start(as_of, config)
    recent = [b for b in bars if start <= b.trade_date <= as_of]
    alerts = (price_cross(recent, config, run_id) + daily_move(recent, config, run_id)
              + volume_spike(recent, config, run_id) + stale_series(newest, as_of, config, run_id))
    unique: dict[str, Alert] = {}
    for alert in alerts:
        unique.setdefault(alert.dedupe_key, alert)
    return sorted(unique.values(), key=lambda a: (a.trade_date or "", a.symbol or "", a.rule))
