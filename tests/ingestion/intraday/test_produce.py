"""The producer end to end onto the local log: synthetic runs that repeat from a seed and start
from the published close; Alpha Vantage runs against the fake server on a hand-moved clock
(session gating, the key's allowance used whole without a limit body, bad quotes kept aside)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.adapters.local.stream_sqlite import SqliteStream, stream_path
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.quote_record import decode
from glue_jobs.lake.session_hours import session_of
from ingestion.intraday.run_produce import ProduceRequest, run_produce
from tests.support.clock import FakeClock
from tests.support.demo_lake import DemoLake, price_rows

UTC = dt.timezone.utc
FRIDAY = dt.date(2026, 11, 20)  # the fake server's as-of session


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def records_in(path) -> list:
    with SqliteStream(path) as log:
        return [r for s in log.shards() for r in log.read(s, None, 1_000_000)]


def synthetic(tmp_path, name, *, seed=0, engine=None, symbols=("IBM", "AAPL", "MSFT"), records=60, now="2026-11-21 03:00:00"):
    path = stream_path(tmp_path / name, "quotes")
    with SqliteStream(path, shards=2) as log:
        result = run_produce(ProduceRequest(symbols=symbols, records=records, seed=seed), stream=log,
                             storage=LocalStorage(str(tmp_path / name)), engine=engine, env={},
                             clock=FakeClock(at(now)).now)
    return result, records_in(path)


def published(path, symbols=("IBM", "AAPL", "MSFT")) -> DemoLake:
    engine = DemoLake(path)
    engine.register("daily_prices", pa.Table.from_pylist(price_rows(symbols=symbols, sessions=30, as_of=FRIDAY)))
    return engine


def test_a_synthetic_run_repeats_from_its_seed_and_differs_with_another(tmp_path):
    engine = published(tmp_path / "published")  # the same anchors for every run: only the seed differs
    _, first = synthetic(tmp_path, "a", seed=3, engine=engine, now="2026-11-23 15:00:00")
    _, again = synthetic(tmp_path, "b", seed=3, engine=engine, now="2026-11-23 15:00:00")
    _, other = synthetic(tmp_path, "c", seed=4, engine=engine, now="2026-11-23 15:00:00")
    assert len(first) == 60
    assert sorted(r.data for r in first) == sorted(r.data for r in again)
    assert sorted(r.data for r in first) != sorted(r.data for r in other)


def test_a_synthetic_run_at_night_simulates_the_last_session_inside_its_hours(tmp_path):
    result, records = synthetic(tmp_path, "a", records=None, symbols=("IBM", "AAPL"))  # Saturday 03:00 UTC
    session = session_of(FRIDAY)
    quotes = [decode(r.data) for r in records]
    assert result.report.stopped == "session closed" and len(quotes) == 2 * 390  # a quote a minute each
    assert {q.latest_trading_day for q in quotes} == {"2026-11-20"}
    assert all(session.open_utc.timestamp() * 1000 <= q.event_time_ms < session.close_utc.timestamp() * 1000
               for q in quotes)
    for symbol in ("IBM", "AAPL"):
        mine = [q for q in quotes if q.symbol == symbol]
        assert [q.sequence for q in mine] == list(range(390))
        assert all(q.low <= q.price <= q.high and q.low <= q.open <= q.high for q in mine)
        assert all(q.change == q.price - q.previous_close for q in mine)


def test_the_walk_starts_from_the_last_published_close(tmp_path):
    engine = DemoLake(tmp_path / "published")
    rows = price_rows(symbols=("IBM", "AAPL"), sessions=30, as_of=FRIDAY)
    engine.register("daily_prices", pa.Table.from_pylist(rows))
    _, records = synthetic(tmp_path, "a", engine=engine, symbols=("IBM", "AAPL", "ZZZZ"),
                           now="2026-11-23 15:00:00")  # Monday: the close before is Friday's
    closes = {r["symbol"]: r["close"] for r in rows if r["trade_date"] == FRIDAY}
    quotes = {q.symbol: q for q in map(decode, (r.data for r in records))}
    for symbol in ("IBM", "AAPL"):
        assert quotes[symbol].previous_close == Decimal(repr(closes[symbol])).quantize(Decimal("0.0001"))
    assert quotes["ZZZZ"].previous_close > 0  # no published close: the synthetic series' (warned)


@pytest.fixture
def av_env(fake_av):
    def start(**settings):
        server = fake_av(**settings)
        return server, {"ALPHAVANTAGE_API_KEY": server.api_key, "ALPHAVANTAGE_BASE_URL": server.base_url}
    return start


def produce_av(tmp_path, clock, env, request):
    path = stream_path(tmp_path / "lake", "quotes")
    with SqliteStream(path) as log:
        result = run_produce(request, stream=log, storage=LocalStorage(str(tmp_path / "lake")), engine=None,
                             env=env, clock=clock.now, sleep=clock.sleep)
    return result, records_in(path)


def test_outside_a_session_nothing_is_fetched_and_the_next_open_is_named(tmp_path, av_env):
    clock = FakeClock(at("2026-11-21 15:00:00"))  # a Saturday
    server, env = av_env(per_minute=5, daily_limit=25)
    result, records = produce_av(tmp_path, clock, env, ProduceRequest(symbols=("IBM",), source="alphavantage"))
    assert result.report is None and records == [] and server.calls == []
    assert "next session opens 2026-11-23 09:30 New York time (2026-11-23 14:30 UTC)" in result.summary()


def test_the_tightest_interval_uses_the_whole_minute_allowance_with_no_limit_body(tmp_path, av_env, fake_av):
    clock = FakeClock(at("2026-11-20 15:00:00"))
    server, env = av_env(per_minute=75, daily_limit=100_000, clock=clock.now)
    request = ProduceRequest(symbols=tuple(f"S{i:02d}" for i in range(15)), source="alphavantage", duration_s=600,
                             calls_per_minute=75, calls_per_day=100_000)
    result, records = produce_av(tmp_path, clock, env, request)
    assert result.interval_s == 12.0 and result.binding == "minute"
    assert server.limit_bodies == 0
    assert len(server.calls) >= 0.98 * 75 * 10 and len(records) == len(server.calls)
    quotes = [decode(r.data) for r in records]
    assert {q.source for q in quotes} == {"alphavantage"} and {q.latest_trading_day for q in quotes} == {"2026-11-20"}


def test_a_free_key_spends_its_day_over_the_session_and_stops_at_the_close(tmp_path, av_env):
    clock = FakeClock(at("2026-11-20 14:30:00"))
    server, env = av_env(per_minute=5, daily_limit=25, min_spacing_s=1.0, clock=clock.now)
    result, records = produce_av(tmp_path, clock, env, ProduceRequest(symbols=("IBM", "AAPL"), source="alphavantage"))
    assert result.report.stopped == "session closed"
    assert len(server.calls) == 25 and server.limit_bodies == 0 and len(records) == 25


def test_an_interval_the_free_key_cannot_sustain_is_refused(tmp_path, av_env):
    clock = FakeClock(at("2026-11-20 15:00:00"))
    server, env = av_env()
    with pytest.raises(ConfigError, match=r"shortest interval it sustains is 9360 s"):
        produce_av(tmp_path, clock, env, ProduceRequest(symbols=tuple("ABCDEFGHIJ"), source="alphavantage",
                                                        interval_s=60))
    assert server.calls == []


def test_stale_and_negative_quotes_are_kept_aside_with_their_reason_and_never_put(tmp_path, av_env):
    clock = FakeClock(at("2026-11-20 15:00:00"))
    server, env = av_env(failures={"IBM": ["stale_quote", "negative_price"]}, clock=clock.now)
    request = ProduceRequest(symbols=("IBM",), source="alphavantage", records=2, calls_per_minute=60,
                             calls_per_day=10_000)
    result, records = produce_av(tmp_path, clock, env, request)
    assert [r.kind for r in result.report.rejected] == ["stale_quote", "bad_value"]
    assert len(records) == 2
    kept = LocalStorage(str(tmp_path / "lake")).list_keys("rejected/quotes/")
    assert len([k for k in kept if k.endswith(".reason.json")]) == 2 and len(kept) == 4


def _ingested(tmp_path, calls_by_day: dict[str, int]) -> None:
    """The lake's ingestion state after daily ingestions spent `calls_by_day` on the key."""
    from ingestion.state import IngestState, save_state

    save_state(LocalStorage(str(tmp_path / "lake")), IngestState(quota={"alphavantage": calls_by_day}))


def test_an_interval_refused_for_what_the_daily_ingestion_spent_names_both(tmp_path, av_env):
    clock = FakeClock(at("2026-11-20 15:00:00"))
    server, env = av_env()
    _ingested(tmp_path, {"2026-11-20": 20})
    # 25 calls a day would sustain 2 symbols every 1872 s over the 6.5 h session; 5 left need 9360
    with pytest.raises(ConfigError) as refused:
        produce_av(tmp_path, clock, env, ProduceRequest(symbols=("IBM", "AAPL"), source="alphavantage",
                                                        interval_s=1872))
    message = str(refused.value)
    assert "5 calls left today (25 a day less 20 made by the daily ingestion)" in message
    assert "shortest interval it sustains is 9360 s" in message
    assert server.calls == []


@pytest.mark.parametrize("ingested, calls", [({"2026-11-20": 20}, 5), ({"2026-11-19": 25}, 25), ({}, 25)])
def test_the_producer_spends_only_what_the_daily_ingestion_left_of_today_s_quota(tmp_path, av_env, ingested, calls):
    clock = FakeClock(at("2026-11-20 14:30:00"))
    server, env = av_env(per_minute=5, daily_limit=25, min_spacing_s=1.0, clock=clock.now)
    _ingested(tmp_path, ingested)
    result, records = produce_av(tmp_path, clock, env, ProduceRequest(symbols=("IBM", "AAPL"), source="alphavantage"))
    assert result.report.stopped == "session closed"
    assert len(server.calls) == calls and server.limit_bodies == 0 and len(records) == calls


def test_a_quota_the_daily_ingestion_spent_whole_refuses_with_both_counts(tmp_path, av_env):
    clock = FakeClock(at("2026-11-20 15:00:00"))
    server, env = av_env()
    _ingested(tmp_path, {"2026-11-20": 25})
    with pytest.raises(ConfigError, match=r"quota of 25 calls is spent \(25 made today by the daily ingestion\)"):
        produce_av(tmp_path, clock, env, ProduceRequest(symbols=("IBM",), source="alphavantage"))
    assert server.calls == []
