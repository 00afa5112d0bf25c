from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.trading_calendar import is_session, last_sessions, sessions_between
from ingestion.alphavantage.classify import classify
from ingestion.alphavantage.parse import parse_csv, render_csv
from ingestion.synthetic.faults import parse_fault_spec
from ingestion.synthetic.source import SyntheticSource

AS_OF = dt.date(2026, 11, 20)


def prices(bar):
    return float(bar.open), float(bar.high), float(bar.low), float(bar.close)


def test_same_seed_same_bytes_other_seed_other_series():
    a = SyntheticSource(seed=1).csv_bytes("AAPL", as_of=AS_OF)
    assert a == SyntheticSource(seed=1).csv_bytes("AAPL", as_of=AS_OF)
    assert a != SyntheticSource(seed=2).csv_bytes("AAPL", as_of=AS_OF)
    assert a != SyntheticSource(seed=1).csv_bytes("MSFT", as_of=AS_OF)


def test_a_daily_fetch_is_the_last_100_sessions_newest_first():
    result = SyntheticSource().fetch("IBM", as_of=AS_OF)
    bars = parse_csv(result.body).bars
    assert [b.trade_date for b in bars] == [d.isoformat() for d in reversed(last_sessions(AS_OF, 100))]
    assert classify(result.body).kind == "data" == result.kind


def test_a_weekend_as_of_ends_on_the_friday():
    bars = SyntheticSource().bars("IBM", as_of=dt.date(2026, 11, 22))
    assert bars[0].trade_date == "2026-11-20"


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT", "BRK.B", "X"])
def test_every_bar_of_twenty_years_is_consistent(symbol):
    bars = SyntheticSource(seed=3).bars(symbol, as_of=AS_OF, start=dt.date(2006, 1, 1))
    assert len(bars) == len(sessions_between(dt.date(2006, 1, 1), AS_OF))
    for bar in bars:
        open_, high, low, close = prices(bar)
        assert high >= max(open_, close) and low <= min(open_, close), bar
        assert min(open_, high, low, close) > 0 and int(bar.volume) >= 0, bar
        assert is_session(dt.date.fromisoformat(bar.trade_date))


def test_a_bar_is_the_same_whichever_window_asks_for_it():
    source = SyntheticSource(seed=5)
    backfill = {b.trade_date: b for b in source.bars("AAPL", as_of=dt.date(2026, 9, 30), start=dt.date(2016, 1, 1))}
    daily = source.bars("AAPL", as_of=AS_OF)  # a later as-of, compact window
    later_year = source.bars("AAPL", as_of=dt.date(2027, 3, 1), start=dt.date(2026, 1, 1))
    overlap = [b for b in daily if b.trade_date in backfill]
    assert overlap, "the windows should overlap"
    assert all(backfill[b.trade_date] == b for b in overlap)
    assert all(backfill[b.trade_date] == b for b in later_year if b.trade_date in backfill)


def test_csv_is_shaped_like_the_api():
    body = SyntheticSource().csv_bytes("IBM", as_of=AS_OF)
    lines = body.split(b"\r\n")
    assert lines[0] == b"timestamp,open,high,low,close,volume"
    assert lines[-1] == b"" and b"\n" not in body.replace(b"\r\n", b"")
    date, *values, volume = lines[1].decode().split(",")
    assert all(len(v.split(".")[1]) == 4 for v in values)
    assert volume.isdigit()


def test_the_fast_renderer_writes_what_the_csv_module_would():
    source = SyntheticSource(seed=9)
    for symbol in ("A", "ZZZ", "PENNY"):
        fast = source.csv_bytes(symbol, as_of=AS_OF, start=dt.date(2000, 1, 1))
        assert fast == render_csv(source.bars(symbol, as_of=AS_OF, start=dt.date(2000, 1, 1)))


# A lake keeps what earlier versions landed: if the series changed, the next daily fetch would
# restate every bar of its 100 sessions. These bars were landed by the series computed per
# window (walk.py; before it, every walk was drawn from the epoch and the numbers differed).
@pytest.mark.parametrize("symbol, as_of, start, newest, oldest", [
    ("AAPL", AS_OF, None, "2026-11-20,221.3144,221.5685,220.6381,221.0157,430312",
     "2026-07-02,223.4752,225.4083,221.2754,221.6919,379032"),
    ("T0042", dt.date(2024, 12, 4), dt.date(2024, 1, 2), "2024-12-04,81.4570,82.6665,80.8453,82.3369,228666",
     "2024-01-02,68.4893,69.4349,68.0705,68.2684,176540"),
])
def test_the_series_is_the_one_earlier_versions_landed(symbol, as_of, start, newest, oldest):
    lines = SyntheticSource().csv_bytes(symbol, as_of=as_of, start=start).decode().split("\r\n")
    assert (lines[1], lines[-2]) == (newest, oldest)


@pytest.mark.parametrize("start", [None, dt.date(2026, 5, 1), dt.date(2025, 11, 1), dt.date(1999, 11, 1)])
def test_both_renderers_write_the_same_bytes_on_either_side_of_the_switch(start, monkeypatch):
    from ingestion.synthetic import source as synthetic

    rows = SyntheticSource(seed=4)._window("PENNY", AS_OF, start)
    by_row = synthetic.render_rows(*rows)
    monkeypatch.setattr(synthetic, "MATRIX_FROM_ROWS", 0)
    assert by_row == synthetic.render_fast(*rows)


# A day's bodies computed in batches (prepare) must be the bytes landed before batches existed:
# these digests are of 1,200 symbols' bodies as main at bc53fab fetched them one at a time.
@pytest.mark.parametrize("start, digest", [
    (None, "6084cb625c837f5777f984cab02e26b753af2ea40258203562797fd56c3ebe6b"),
    (dt.date(2024, 9, 3), "7c5969e3a154967a318543a0f1889464c65210f007af91bcdc0645a4d35ec304"),
])
def test_bodies_fetched_in_batches_are_the_bytes_fetched_one_at_a_time(start, digest):
    import hashlib

    symbols = [f"T{i:04d}" for i in range(1200)]
    as_of = dt.date(2024, 11, 29)
    source = SyntheticSource(seed=3, faults="restated:T0007,bad_rows:T0100")
    source.prepare(symbols, as_of=as_of, start=start)
    bodies = [source.fetch(s, as_of=as_of, start=start).body for s in symbols]
    assert hashlib.sha256(b"".join(bodies)).hexdigest() == digest
    one_at_a_time = SyntheticSource(seed=3, faults="restated:T0007,bad_rows:T0100")
    # fetched again (a retry), out of the plan's order, or not in the plan: still the same bytes
    for symbol in ["T0500", "T1199", "T0003", "ZZZ"]:
        expected = one_at_a_time.fetch(symbol, as_of=as_of, start=start).body
        assert source.fetch(symbol, as_of=as_of, start=start).body == expected


def test_the_batched_walk_is_bit_for_bit_the_walk_of_each_symbol():
    from ingestion.synthetic.walk import bars, bars_many

    symbols = ["AAPL", "msft", "T0042", "X"]
    for count, first in [(6313, 6213), (6313, 6312), (300, 0), (4200, 4095), (5, 5)]:
        many = bars_many(symbols, 11, count, first)
        for row, symbol in enumerate(symbols):
            assert [a[row].tolist() for a in many] == [a.tolist() for a in bars(symbol, 11, count, first)]


# windows starting on either side of the 16- and 256-session blocks the walk is built from
@pytest.mark.parametrize("first", [0, 1, 2, 15, 16, 17, 150, 255, 256, 257, 299, 4095, 4096])
def test_a_window_of_the_walk_is_the_slice_of_the_whole_walk(first):
    from ingestion.synthetic.walk import bars

    whole = bars("MSFT", 7, 4200)
    window = bars("MSFT", 7, 4200, first)
    for a, b in zip(whole, window):
        assert a[first:].tolist() == b.tolist()


def test_before_the_epoch_the_series_is_empty():
    result = SyntheticSource().fetch("IBM", as_of=dt.date(1990, 1, 2))
    assert result.kind == "empty_series"
    assert result.body == b"timestamp,open,high,low,close,volume\r\n"


def test_pace_is_called_once_per_fetch():
    calls = []
    SyntheticSource().fetch("IBM", as_of=AS_OF, pace=lambda: calls.append(1))
    assert calls == [1]


# -- faults ---------------------------------------------------------------------------------

def faulted(spec, symbol="AAPL"):
    clean = SyntheticSource().bars(symbol, as_of=AS_OF)
    dirty = parse_csv(SyntheticSource(faults=spec).fetch(symbol, as_of=AS_OF).body).bars
    return clean, dirty


def test_bad_rows_carry_every_kind_of_bad_value():
    clean, dirty = faulted("bad_rows:AAPL")
    assert [b.trade_date for b in dirty] == [b.trade_date for b in clean]
    assert dirty[1].open.startswith("-")
    assert dirty[2].close == "0.0000"
    assert (dirty[3].open, dirty[3].close) == ("-1", "-1")
    assert float(dirty[4].high) < float(dirty[4].low)
    assert (dirty[5].close, dirty[6].volume, dirty[7].volume, dirty[8].volume) == ("NaN", "", "1,234", "-500")
    assert dirty[0] == clean[0] and dirty[9:] == clean[9:]


def test_duplicates_repeat_dates():
    clean, dirty = faulted("duplicates:AAPL")
    dates = [b.trade_date for b in dirty]
    assert len(dates) == len(clean) + 2 and len(set(dates)) == len(clean)
    twins = [b for b in dirty if b.trade_date == clean[4].trade_date]
    assert twins[0].close != twins[1].close


def test_restated_revises_two_older_bars_and_keeps_them_consistent():
    clean, dirty = faulted("restated:AAPL")
    changed = [i for i, (a, b) in enumerate(zip(clean, dirty)) if a != b]
    assert changed == [5, 20] and len(dirty) == len(clean)
    bar = dirty[5]
    assert bar.close != clean[5].close and (bar.open, bar.high, bar.low, bar.volume) == (
        clean[5].open, clean[5].high, clean[5].low, clean[5].volume)
    assert float(bar.low) <= float(bar.close) <= float(bar.high)  # a revision, not a bad bar
    assert int(dirty[20].volume) == int(clean[20].volume) + 1000 and dirty[20].close == clean[20].close


def test_gaps_leave_sessions_out():
    clean, dirty = faulted("gaps:AAPL")
    missing = {b.trade_date for b in clean} - {b.trade_date for b in dirty}
    assert missing == {clean[i].trade_date for i in (3, 4, 10)}


def test_weekend_and_future_dates():
    _, weekend = faulted("weekend:AAPL")
    assert any(dt.date.fromisoformat(b.trade_date).weekday() == 5 for b in weekend)
    _, future = faulted("future:AAPL")
    assert [b.trade_date for b in future[:2]] == ["2026-11-24", "2026-11-23"]


def test_faults_touch_only_the_symbols_named_and_star_means_all():
    clean, dirty = faulted("bad_rows:MSFT", symbol="AAPL")
    assert clean == dirty
    _, everyone = faulted("gaps:*", symbol="IBM")
    assert len(everyone) == 97


@pytest.mark.parametrize("spec, match", [("bad_rows", "kind:SYMBOL"), ("nonsense:AAPL", "unknown fault kind")])
def test_bad_fault_specs_are_refused(spec, match):
    with pytest.raises(ConfigError, match=match):
        parse_fault_spec(spec)


def test_fault_spec_groups_kinds_by_symbol():
    spec = parse_fault_spec("bad_rows:AAPL, duplicates:aapl,gaps:IBM")
    assert spec == {"AAPL": frozenset({"bad_rows", "duplicates"}), "IBM": frozenset({"gaps"})}
