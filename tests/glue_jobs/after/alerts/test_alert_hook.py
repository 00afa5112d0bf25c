"""The alert step end to end on a small lake: the SQL finds the bars, the rules fire, the
notifier gets each alert once however often the day re-runs."""
from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.after.alerts import raise_alerts
from glue_jobs.after.alerts.config import parse_config
from glue_jobs.lake import layout, trading_calendar
from glue_jobs.lake.context import RunContext
from glue_jobs.ports.notifier import Alert
from tests.support.demo_lake import DemoLake

AS_OF = dt.date(2026, 11, 20)
CONFIG = parse_config({"lookback_sessions": 1, "daily_move": {"percent": 5}, "volume_spike": {"ratio": 3},
                       "price_levels": {"AAPL": [105]}})


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alerts: list[Alert]) -> None:
        self.sent.extend(alerts)


def _rows(as_of: dt.date) -> list[dict]:
    """40 quiet sessions for four symbols; on `as_of` AAPL jumps 8% through 105, MSFT trades
    5x its volume, and IBM has no bar for the last two sessions."""
    rows = []
    for day in trading_calendar.last_sessions(as_of, 40):
        for symbol in ("AAPL", "MSFT", "IBM", "XOM"):
            if symbol == "IBM" and day >= trading_calendar.previous_session(as_of):
                continue
            close, volume = 100.0, 1_000_000
            if day == as_of and symbol == "AAPL":
                close = 108.0
            if day == as_of and symbol == "MSFT":
                volume = 5_000_000
            rows.append({"symbol": symbol, "trade_date": day, "open": close, "high": close, "low": close,
                         "close": close, "volume": volume, "fetched_at": dt.datetime(2026, 11, 20, 22),
                         "run_id": "ingest-1", "trade_year": day.year})
    return rows


@pytest.fixture()
def lake(tmp_path):
    engine = DemoLake(tmp_path / "published")
    engine.register("daily_prices", pa.Table.from_pylist(_rows(AS_OF)))
    return engine, LocalStorage(tmp_path / "lake")


def _ctx(engine, storage, notifier, run_id="run-1", as_of=AS_OF, symbols=None) -> RunContext:
    return RunContext(run_id=run_id, as_of=as_of, storage=storage, catalog=None, engine=engine,
                      notifier=notifier, settings={"symbols": symbols or ["AAPL", "MSFT", "IBM", "XOM"]})


def test_each_rule_fires_on_the_published_bars(lake):
    engine, storage = lake
    notifier = RecordingNotifier()
    counts = raise_alerts(_ctx(engine, storage, notifier), config=CONFIG)
    keys = sorted(a.dedupe_key for a in notifier.sent)
    assert keys == ["daily_move|AAPL|2026-11-20", "price_cross|AAPL|2026-11-20",
                    "stale_series|IBM|2026-11-20", "volume_spike|MSFT|2026-11-20"]
    assert counts["alerts_sent"] == 4 and counts["alerts_by_rule"]["daily_move"] == 1
    assert any("sql/alerts/recent_bars.sql" in s for s in engine.statements)


def test_a_configured_symbol_missing_from_the_lake_is_stale(lake):
    engine, storage = lake
    notifier = RecordingNotifier()
    raise_alerts(_ctx(engine, storage, notifier, symbols=["AAPL", "TSLA"]), config=CONFIG)
    stale = [a for a in notifier.sent if a.rule == "stale_series"]
    assert [a.symbol for a in stale] == ["TSLA"]


def test_rerunning_the_day_sends_no_alert_twice(lake):
    engine, storage = lake
    first, second = RecordingNotifier(), RecordingNotifier()
    raise_alerts(_ctx(engine, storage, first, run_id="run-1"), config=CONFIG)
    counts = raise_alerts(_ctx(engine, storage, second, run_id="run-2"), config=CONFIG)
    assert len(first.sent) == 4
    assert second.sent == [] and counts["alerts_already_sent"] == 4


def test_the_next_day_alerts_only_on_what_is_new(lake):
    engine, storage = lake
    raise_alerts(_ctx(engine, storage, RecordingNotifier()), config=CONFIG)
    next_day = trading_calendar.last_sessions(dt.date(2026, 11, 23), 1)[0]
    engine.register("daily_prices", pa.Table.from_pylist(_rows(next_day)))
    notifier = RecordingNotifier()
    raise_alerts(_ctx(engine, storage, notifier, as_of=next_day), config=CONFIG)
    assert sorted(a.dedupe_key for a in notifier.sent) == [
        "daily_move|AAPL|2026-11-23", "price_cross|AAPL|2026-11-23",
        "stale_series|IBM|2026-11-23", "volume_spike|MSFT|2026-11-23"]


def test_keys_in_the_local_jsonl_record_count_as_sent(lake):
    engine, storage = lake
    record = {"dedupe_key": "daily_move|AAPL|2026-11-20", "rule": "daily_move"}
    storage.put_bytes(layout.ALERTS_KEY, (json.dumps(record) + "\nnot json\n").encode())
    notifier = RecordingNotifier()
    raise_alerts(_ctx(engine, storage, notifier), config=CONFIG)
    assert "daily_move|AAPL|2026-11-20" not in {a.dedupe_key for a in notifier.sent}
    assert len(notifier.sent) == 3


def test_the_rules_get_each_bar_as_the_query_answered_it_nulls_as_none():
    from glue_jobs.after.alerts.hook import bars_of
    from glue_jobs.after.alerts.rules import Bar

    day, before = dt.date(2024, 12, 2), dt.date(2024, 11, 29)
    answer = pa.table({
        "symbol": ["AAA", "BBB"], "trade_date": [day, day], "close": [10.5, 7.0], "volume": [1200, None],
        "prev_close": [10.0, None], "prev_trade_date": [before, None], "avg_volume_20d": [1000.5, None],
        "prior_sessions": [20, 0],
    })
    assert bars_of(answer) == [
        Bar("AAA", day, 10.5, volume=1200, prev_close=10.0, prev_trade_date=before, avg_volume_20d=1000.5,
            prior_sessions=20),
        Bar("BBB", day, 7.0),  # its first bar: nothing before it to compare with
    ]
