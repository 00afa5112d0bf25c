from __future__ import annotations

import datetime as dt

from glue_jobs.after.alerts.config import AlertConfig, PriceLevel
from glue_jobs.after.alerts.rules import Bar, daily_move, evaluate, price_cross, stale_series, volume_spike

RUN = "20261120T220001Z-abcdef"
DAY = dt.date(2026, 11, 20)  # a Friday
PREV = dt.date(2026, 11, 19)


def bar(symbol="AAPL", close=100.0, prev_close=100.0, volume=1_000_000, avg=1_000_000.0, prior=20, day=DAY):
    return Bar(symbol=symbol, trade_date=day, close=close, volume=volume, prev_close=prev_close,
               prev_trade_date=PREV, avg_volume_20d=avg, prior_sessions=prior)


def config(**changes) -> AlertConfig:
    base = dict(lookback_sessions=3, daily_move_percent=5.0, volume_ratio=3.0, volume_min_sessions=20,
                stale_enabled=True, stale_grace_sessions=0, price_levels={})
    base.update(changes)
    return AlertConfig(**base)


def test_price_cross_up_and_down_through_configured_levels():
    cfg = config(price_levels={"AAPL": (PriceLevel(200.0),), "MSFT": (PriceLevel(400.0),)})
    up = price_cross([bar("AAPL", close=201.0, prev_close=199.0)], cfg, RUN)
    down = price_cross([bar("MSFT", close=399.5, prev_close=401.0)], cfg, RUN)
    assert [a.subject for a in up] == ["AAPL crossed up through 200.00 on 2026-11-20"]
    assert [a.subject for a in down] == ["MSFT crossed down through 400.00 on 2026-11-20"]
    assert up[0].details["crossed"] == [{"direction": "up", "level": 200.0}]


def test_price_cross_needs_a_cross_in_a_watched_direction():
    cfg = config(price_levels={"AAPL": (PriceLevel(200.0, ("up",)),)})
    assert price_cross([bar(close=199.0, prev_close=201.0)], cfg, RUN) == []  # down, but only up is watched
    assert price_cross([bar(close=205.0, prev_close=201.0)], cfg, RUN) == []  # stayed above
    assert price_cross([bar(close=205.0, prev_close=None)], cfg, RUN) == []  # first bar: nothing to compare
    assert price_cross([bar("IBM", close=205.0, prev_close=195.0)], cfg, RUN) == []  # no levels for IBM
    assert len(price_cross([bar(close=200.0, prev_close=199.0)], cfg, RUN)) == 1  # touching counts


def test_two_levels_crossed_in_one_gap_make_one_alert():
    cfg = config(price_levels={"AAPL": (PriceLevel(200.0), PriceLevel(210.0))})
    (alert,) = price_cross([bar(close=215.0, prev_close=195.0)], cfg, RUN)
    assert "200.00" in alert.subject and "210.00" in alert.subject


def test_daily_move_beyond_the_threshold_either_way():
    cfg = config(daily_move_percent=5.0)
    bars = [bar("UP", close=106.0), bar("DOWN", close=94.5), bar("CALM", close=104.9), bar("EDGE", close=105.0)]
    alerts = daily_move(bars, cfg, RUN)
    assert {a.symbol for a in alerts} == {"UP", "DOWN"}
    down = [a for a in alerts if a.symbol == "DOWN"][0]
    assert down.subject == "DOWN moved -5.50% on 2026-11-20"
    assert down.dedupe_key == "daily_move|DOWN|2026-11-20"


def test_volume_spike_needs_a_full_window_and_the_ratio():
    cfg = config(volume_ratio=3.0, volume_min_sessions=20)
    bars = [bar("SPIKE", volume=3_500_000), bar("YOUNG", volume=9_000_000, prior=10),
            bar("BUSY", volume=2_900_000), bar("NOVOL", volume=None)]
    (alert,) = volume_spike(bars, cfg, RUN)
    assert alert.symbol == "SPIKE" and "3.5x" in alert.subject
    assert alert.details["ratio"] == 3.5


def test_stale_series_counts_sessions_on_the_exchange_calendar():
    cfg = config()
    # 2026-11-26 is Thanksgiving: a bar of the 25th is one session behind the 27th
    alerts = stale_series({"AAPL": dt.date(2026, 11, 25), "MSFT": dt.date(2026, 11, 27), "NEW": None},
                          dt.date(2026, 11, 27), cfg, RUN)
    by_symbol = {a.symbol: a for a in alerts}
    assert set(by_symbol) == {"AAPL", "NEW"}
    assert by_symbol["AAPL"].details["sessions_behind"] == 1
    assert "no bars" in by_symbol["NEW"].message
    assert by_symbol["AAPL"].dedupe_key == "stale_series|AAPL|2026-11-27"


def test_stale_series_grace_and_switch():
    newest = {"AAPL": PREV}
    assert stale_series(newest, DAY, config(stale_grace_sessions=1), RUN) == []
    assert stale_series(newest, DAY, config(stale_enabled=False), RUN) == []
    assert len(stale_series(newest, DAY, config(stale_grace_sessions=0), RUN)) == 1


def test_evaluate_looks_only_at_the_newest_sessions_and_is_repeatable():
    cfg = config(lookback_sessions=2)
    old = bar("OLD", close=150.0, day=dt.date(2026, 11, 10))
    recent = bar("NEW", close=150.0, day=PREV)
    future = bar("FUT", close=150.0, day=dt.date(2026, 11, 23))
    first = evaluate([old, recent, future], {"NEW": DAY}, as_of=DAY, config=cfg, run_id=RUN)
    again = evaluate([future, recent, old], {"NEW": DAY}, as_of=DAY, config=cfg, run_id="another-run")
    assert [a.symbol for a in first] == ["NEW"]
    assert [a.dedupe_key for a in first] == [a.dedupe_key for a in again]
