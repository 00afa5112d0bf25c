"""Which fetched rows write_temp leaves out as already published (sql/wap/write_temp/changed_rows.sql):
only a row equal in every price and the volume to the published bar of its own symbol and
date, parsed whole, not still forming, and alone on its key. Any other row goes on to the audit
and publish; leaving one out by mistake loses a correction, or a row the audit must quarantine,
without a trace."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake import trading_calendar
from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

DAY1, DAY2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
PUBLISHED = ("A", "O", "H", "L", "C", "V", "F", "E", "U", "R1", "R2")


def test_only_rows_equal_to_their_own_published_bar_are_left_out(make_ctx):
    first = make_ctx(run_id="20240307T230000Z-aaaaaa", as_of=DAY1)
    series = {s: bars(s, trading_calendar.last_sessions(DAY1, 5)) for s in PUBLISHED}
    land(first.storage, run_id="20240307T220000Z-i1", ingest_date=DAY1.isoformat(),
         bodies={s: csv_body(rows) for s, rows in series.items()})
    assert run_wap(first)["publish"]["published_rows"] == 5 * len(PUBLISHED)

    def bar(symbol, **change):  # the symbol's published bar of the day before DAY1, changed
        day, o, h, lo, c, v = series[symbol][1]
        values = {"day": day, "open": o, "high": h, "low": lo, "close": c, "volume": v, **change}
        return tuple(values[k] for k in ("day", "open", "high", "low", "close", "volume"))

    x = bar("A")[0]
    bodies = {
        "O": [bar("O", open=1.5)], "H": [bar("H", high=999.0)], "L": [bar("L", low=0.5)],
        "C": [bar("C", close=2.5)], "V": [bar("V", volume=7)],  # one restated column each
        "A": [bar("A", day=DAY2.isoformat())],  # a new day repeating the day before's bar
        "N": [bar("A")],  # a symbol never published sending another symbol's bar
        "F": [bar("F"), series["F"][2]],  # as published, fetched while the first was still forming
        "E": [bar("E") + ("000",)],  # as published, but the volume has a thousands separator
        "R1": [bar("R1"), bar("R1", close=3.5), series["R1"][2]],  # two disagreeing rows, then as published
        "R2": [bar("R2")],  # as published, on the date R1 repeats
        "U": [bar("U")],  # as published: left out
    }
    second = make_ctx(run_id="20240308T230000Z-bbbbbb", as_of=DAY2)
    land(second.storage, run_id="20240308T220000Z-i2", ingest_date=DAY2.isoformat(), forming={"F": x},
         bodies={s: csv_body(rows) for s, rows in bodies.items()})
    crawl.run(second)
    drop_temp.run(second)
    counts = write_temp.run(second)

    rows = second.engine.query("select symbol, cast(trade_date as varchar) as day, close "
                               "from stocks.tmp_daily_prices order by symbol, trade_date, close").to_pylist()
    assert [(r["symbol"], r["day"]) for r in rows] == [
        ("A", DAY2.isoformat()), ("C", x), ("E", x), ("F", x), ("H", x), ("L", x), ("N", x), ("O", x),
        ("R1", x), ("R1", x), ("V", x)]
    assert (counts["fetched_rows"], counts["unchanged_rows"]) == (15, 4)  # U's, R2's, F's and R1's older bars


def _second_day(make_ctx, series, bodies, *, forming=None):
    second = make_ctx(run_id="20240308T230000Z-bbbbbb", as_of=DAY2)
    land(second.storage, run_id="20240308T220000Z-i2", ingest_date=DAY2.isoformat(), forming=forming or {},
         bodies={s: csv_body(rows) for s, rows in bodies.items()})
    crawl.run(second)
    drop_temp.run(second)
    return second, write_temp.run(second)


def _published_day1(make_ctx):
    first = make_ctx(run_id="20240307T230000Z-aaaaaa", as_of=DAY1)
    series = {s: bars(s, trading_calendar.last_sessions(DAY1, 5)) for s in PUBLISHED}
    land(first.storage, run_id="20240307T220000Z-i1", ingest_date=DAY1.isoformat(),
         bodies={s: csv_body(rows) for s, rows in series.items()})
    assert run_wap(first)["publish"]["published_rows"] == 5 * len(PUBLISHED)
    return series


@pytest.mark.parametrize("marked", [True, False], ids=["marked while typed", "joined after"])
def test_a_batch_without_repeated_keys_leaves_out_the_same_rows_whether_marked_while_typed_or_not(
        make_ctx, monkeypatch, marked):
    """On a day without repeated keys the typing pass marks the rows published as they are
    (sql/wap/write_temp/published_as_is.sql) and the changed rows are the rest; without the
    mark, changed_rows.sql joins them with the published year. Both must leave out exactly
    the same rows."""
    series = _published_day1(make_ctx)
    if not marked:
        monkeypatch.setattr(write_temp, "compared_years", lambda runs, published: [])

    def bar(symbol, **change):
        day, o, h, lo, c, v = series[symbol][1]
        values = {"day": day, "open": o, "high": h, "low": lo, "close": c, "volume": v, **change}
        return tuple(values[k] for k in ("day", "open", "high", "low", "close", "volume"))

    x = bar("A")[0]
    day, o, h, lo, c, v = bar("R1")
    bodies = {
        "O": [bar("O", open=1.5)], "H": [bar("H", high=999.0)], "L": [bar("L", low=0.5)],
        "C": [bar("C", close=2.5)], "V": [bar("V", volume=7)],
        "A": [bar("A", day=DAY2.isoformat())],
        "N": [bar("A")],
        "F": [bar("F"), series["F"][2]],
        "E": [bar("E") + ("000",)],
        "R1": [(day, f"{o:.6f}", f"{h:.6f}", f"{lo:.6f}", f"{c:.6f}", f"+{v}")],  # as published, written otherwise
        "U": [bar("U")],
    }
    second, counts = _second_day(make_ctx, series, bodies, forming={"F": x})

    rows = second.engine.query("select symbol, cast(trade_date as varchar) as day, raw_line, parse_error "
                               "from stocks.tmp_daily_prices order by symbol, trade_date").to_pylist()
    assert [(r["symbol"], r["day"]) for r in rows] == [
        ("A", DAY2.isoformat()), ("C", x), ("E", x), ("F", x), ("H", x), ("L", x), ("N", x), ("O", x), ("V", x)]
    # a row that did not parse keeps its line for the quarantine; the audit reads the others'
    # lines again for those it quarantines (glue_jobs/audit/raw_text.py)
    assert [r["symbol"] for r in rows if r["raw_line"]] == [r["symbol"] for r in rows if r["parse_error"]] == ["E"]
    assert (counts["fetched_rows"], counts["unchanged_rows"], counts["duplicates_dropped"]) == (12, 3, 0)  # R1, U and F's older bar
    marks = second.engine.query("select count(*) as n from stocks.tmp_daily_prices_fetched "
                                "where published_as_is").column("n")[0].as_py()
    assert marks == (3 if marked else 0)


def test_two_lines_of_one_fetch_on_one_date_equal_in_value_but_written_apart_both_go_on(make_ctx):
    """They are not copies of one line (de-duplication tells copies by their raw text), so both
    reach the uniqueness rule, as published_as_is.sql's mark must not change: a batch that
    repeats a key is typed again without it, with every raw line."""
    series = _published_day1(make_ctx)
    day, o, h, lo, c, v = series["U"][1]
    bodies = {"U": [(day, o, h, lo, c, v), (day, f"{o:.6f}", h, lo, c, v)], "A": [series["A"][1]]}
    second, counts = _second_day(make_ctx, series, bodies)

    rows = second.engine.query("select symbol, raw_line from stocks.tmp_daily_prices order by raw_line").to_pylist()
    assert [r["symbol"] for r in rows] == ["U", "U"]
    assert rows[0]["raw_line"] != rows[1]["raw_line"]
    assert (counts["fetched_rows"], counts["unchanged_rows"], counts["duplicates_dropped"]) == (3, 1, 0)


@pytest.mark.parametrize("ingest_dates, rows, published, years", [
    (["2024-12-04"], [100], {2022, 2023, 2024}, [2024]),  # 100 sessions back stay in 2024
    (["2024-03-08"], [100], {2022, 2023, 2024}, [2023, 2024]),  # ... or reach back into 2023
    (["2024-12-04"], [5000], {2005, 2023, 2024}, [2005, 2023, 2024]),  # a full history
    (["2024-12-04"], [None], {2024}, []),  # a manifest that does not count its rows: nothing compared
    (["2024-12-04"], [100], set(), []),  # nothing published
    (["2024-12-4x"], [100], {2024}, []),  # an ingest date that is not a date
])
def test_the_years_compared_while_typing_are_those_a_fetch_can_reach(ingest_dates, rows, published, years):
    from glue_jobs.lake.ingest_queue import Fetch, IngestRun

    runs = [IngestRun(f"run{n}", d, "manifest", [Fetch(symbol="A", rows=r, fetched_at="", forming_date=None,
                                                       raw_key="")])
            for n, (d, r) in enumerate(zip(ingest_dates, rows))]
    assert write_temp.compared_years(runs, published) == years


def test_a_published_bar_of_a_year_the_typing_pass_did_not_compare_with_is_still_left_out(make_ctx):
    """A fetch of one row dated back in the year before (a late vendor correction that turns out
    the same as published) reaches past the years compared while typing (2n + 10 days back from
    the ingest date: 2024 only); that row is not marked, and must still be found unchanged
    after the write (changed_rows.sql), not audited and counted as a change."""
    first = make_ctx(run_id="20240307T230000Z-aaaaaa", as_of=DAY1)
    series = {s: bars(s, trading_calendar.last_sessions(DAY1, 60)) for s in ("A", "B")}
    land(first.storage, run_id="20240307T220000Z-i1", ingest_date=DAY1.isoformat(),
         bodies={s: csv_body(rows) for s, rows in series.items()})
    run_wap(first)
    old = next(r for r in series["A"] if r[0] == "2023-12-29")
    assert first.engine.query("select count(*) as n from stocks.daily_prices where trade_year = 2023"
                              ).column("n")[0].as_py() == 2 * sum(r[0] < "2024" for r in series["A"])

    second, counts = _second_day(make_ctx, series, {"A": [old], "B": [(DAY2.isoformat(), 10.0, 11.0, 9.0, 10.5, 1000)]})

    rows = second.engine.query("select symbol, cast(trade_date as varchar) as day from stocks.tmp_daily_prices"
                               ).to_pylist()
    assert [(r["symbol"], r["day"]) for r in rows] == [("B", DAY2.isoformat())]
    assert (counts["fetched_rows"], counts["unchanged_rows"]) == (2, 1)


def test_a_pending_ingest_run_that_fetched_nothing_writes_no_rows_on_a_published_lake(make_ctx):
    """A day whose every fetch failed still leaves its manifest, listing no data body: write
    temp, with published years to compare with, writes nothing and does not fail."""
    _published_day1(make_ctx)
    second, counts = _second_day(make_ctx, {}, {})

    assert (counts["ingest_runs"], counts["fetched_rows"], counts["temp_rows"]) == (1, 0, 0)
    assert second.engine.query("select count(*) as n from stocks.tmp_daily_prices").column("n")[0].as_py() == 0
