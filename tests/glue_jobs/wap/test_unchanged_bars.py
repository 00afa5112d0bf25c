"""A real day (issue 15): a compact fetch repeats bars that are already published. Those are
recognised in write_temp, counted as unchanged, neither audited again nor rewritten; the new
bar and any restated one go through the full audit, series rules included, and are published;
raw = published + unchanged + quarantined + duplicates dropped."""
from __future__ import annotations

import datetime as dt
import json

from glue_jobs.lake import layout, trading_calendar
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

DAY1 = dt.date(2024, 3, 7)
DAY2 = dt.date(2024, 3, 8)
SESSIONS = 30


def _published(ctx) -> dict[tuple[str, str], dict]:
    rows = ctx.engine.query("select * from stocks.daily_prices").to_pylist()
    return {(r["symbol"], r["trade_date"].isoformat()): r for r in rows}


def _quarantined(ctx) -> list[dict]:
    return ctx.engine.query(
        "select symbol, trade_date, rule from stocks.daily_prices_quarantine order by symbol, trade_date, rule"
    ).to_pylist()


def _totals(ctx) -> dict:
    return json.loads(ctx.storage.get_bytes(layout.run_log_key(ctx.run_id)))["totals"]


def _first_day(make_ctx) -> dict[str, list[tuple]]:
    """Day 1 published: 30 sessions of A and B. Returns each symbol's rows (newest first)."""
    ctx = make_ctx(run_id="20240307T230000Z-aaaaaa", as_of=DAY1)
    sessions = trading_calendar.last_sessions(DAY1, SESSIONS)
    rows = {s: bars(s, sessions) for s in ("A", "B")}
    land(ctx.storage, run_id="20240307T220000Z-i1", ingest_date=DAY1.isoformat(),
         bodies={s: csv_body(r) for s, r in rows.items()})
    assert run_wap(ctx)["publish"]["published_rows"] == 2 * SESSIONS
    return rows


def _next_day(day1: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Day 2's compact-like fetch: a new newest bar, then day 1's bars as published."""
    out = {}
    for symbol, rows in day1.items():
        _, open_, high, low, close, volume = rows[0]
        out[symbol] = [(DAY2.isoformat(), close, round(close * 1.01, 4), round(close * 0.99, 4), close, volume)]
        out[symbol] += [list(r) for r in rows]
    return out


def _run_day2(make_ctx, bodies: dict[str, list]) -> tuple[object, dict]:
    ctx = make_ctx(run_id="20240308T230000Z-bbbbbb", as_of=DAY2)
    land(ctx.storage, run_id="20240308T220000Z-i2", ingest_date=DAY2.isoformat(),
         bodies={s: csv_body([tuple(r) for r in rows]) for s, rows in bodies.items()})
    return ctx, run_wap(ctx)


def test_new_and_restated_bars_are_audited_and_published_the_rest_counted_unchanged(make_ctx):
    day1 = _first_day(make_ctx)
    rows = _next_day(day1)
    a_day, a_open, _, _, a_close = rows["A"][6][:5]
    rows["A"][6][4] = round((a_open + a_close) / 2, 4)  # a restated close, inside the bar's range
    b_day = rows["B"][12][0]
    rows["B"][12][5] = rows["B"][12][5] + 1000  # a restated volume, prices as they were

    ctx, results = _run_day2(make_ctx, rows)

    received = 2 * (SESSIONS + 1)
    assert results["write_temp"]["raw_rows"] == received
    assert results["write_temp"]["unchanged_rows"] == received - 4  # 2 new bars, 2 restated
    assert results["audit"]["audited_rows"] == 4
    assert results["publish"]["published_rows"] == 4
    published = _published(ctx)
    assert published[("A", a_day)]["close"] == rows["A"][6][4]
    assert published[("B", b_day)]["volume"] == rows["B"][12][5]
    assert ("A", DAY2.isoformat()) in published and ("B", DAY2.isoformat()) in published
    totals = _totals(ctx)
    assert totals["reconciled"] is True
    assert totals["raw_rows"] == totals["published_rows"] + totals["unchanged_rows"] + totals[
        "quarantined_rows"] + totals["duplicates_dropped"]
    assert (totals["published_rows"], totals["unchanged_rows"]) == (4, received - 4)


def test_a_restated_bar_that_breaks_a_series_rule_is_caught_against_its_unchanged_neighbours(make_ctx):
    day1 = _first_day(make_ctx)
    rows = _next_day(day1)
    day, _, _, _, close = rows["A"][6][:5]
    # a scale error in one old bar: its neighbours are unchanged, so not audited themselves,
    # but the jump rule must still measure the bar against them
    rows["A"][6][2] = rows["A"][6][4] = round(close * 100, 4)

    ctx, results = _run_day2(make_ctx, rows)

    assert {"symbol": "A", "trade_date": dt.date.fromisoformat(day), "rule": "no_unexplained_jump"} in _quarantined(ctx)
    assert _published(ctx)[("A", day)]["close"] == close  # the published bar stays
    assert results["publish"]["published_rows"] == 2  # the two new bars
    assert _totals(ctx)["reconciled"] is True


def test_a_day_where_nothing_changed_publishes_nothing_and_rewrites_no_partition(make_ctx):
    day1 = _first_day(make_ctx)
    ctx0 = make_ctx(run_id="20240308T225000Z-zzzzzz", as_of=DAY2)
    before = {p.values["trade_year"]: p.location for p in ctx0.catalog.list_partitions("stocks", "daily_prices")}
    files_before = sorted(ctx0.storage.list_keys(layout.table_prefix(layout.PUBLISHED_TABLE)))

    ctx, results = _run_day2(make_ctx, {s: [list(r) for r in rows] for s, rows in day1.items()})

    assert results["write_temp"]["unchanged_rows"] == 2 * SESSIONS
    assert results["audit"]["audited_rows"] == 0
    assert results["publish"]["published_rows"] == 0
    assert results["publish"]["partitions_written"] == results["publish"]["partitions_unchanged"] == 0
    after = {p.values["trade_year"]: p.location for p in ctx.catalog.list_partitions("stocks", "daily_prices")}
    assert after == before
    assert sorted(ctx.storage.list_keys(layout.table_prefix(layout.PUBLISHED_TABLE))) == files_before
    assert _totals(ctx)["reconciled"] is True


def test_two_disagreeing_rows_of_one_fetch_both_reach_the_uniqueness_rule_even_if_one_is_published(make_ctx):
    day1 = _first_day(make_ctx)
    rows = _next_day(day1)
    twin = list(rows["A"][3])
    twin[4] = round(twin[4] * 1.001, 4)
    twin[2] = max(twin[2], twin[4])
    rows["A"].insert(4, twin)  # the same date again, another close, in the same body

    ctx, _ = _run_day2(make_ctx, rows)

    held = [q for q in _quarantined(ctx) if q["rule"] == "one_row_per_symbol_and_date"]
    assert [q["trade_date"].isoformat() for q in held] == [twin[0], twin[0]]
    assert _published(ctx)[("A", twin[0])]["close"] == rows["A"][3][4]  # what was published stays
    assert _totals(ctx)["reconciled"] is True


def test_a_restated_bar_quarantined_on_a_real_day_names_the_file_and_line_it_came_in(make_ctx):
    """Leaving the unchanged bars out must keep every column of the bars that go on: the
    quarantine tells the user which raw file, ingest date, fetch and line to look at."""
    day1 = _first_day(make_ctx)
    rows = _next_day(day1)
    day, _, _, _, close = rows["A"][6][:5]
    rows["A"][6][2] = rows["A"][6][4] = round(close * 100, 4)

    ctx, _ = _run_day2(make_ctx, rows)

    held = ctx.engine.query(
        "select ingest_date, source_file, ingest_run_id, raw_line, fetched_at from stocks.daily_prices_quarantine "
        f"where symbol = 'A' and trade_date = date '{day}'").to_pylist()
    assert len(held) == 1
    assert held[0]["ingest_date"] == DAY2.isoformat()
    assert held[0]["source_file"] == ctx.storage.uri(layout.raw_key(DAY2.isoformat(), "A", "20240308T220000Z-i2"))
    assert held[0]["ingest_run_id"] == "20240308T220000Z-i2"
    assert held[0]["raw_line"] == ",".join(str(v) for v in rows["A"][6])
    assert held[0]["fetched_at"] is not None


def test_a_correction_back_to_an_earlier_value_is_published_not_taken_for_unchanged(make_ctx):
    """A bar restated one day and sent as it first was the next: the second fetch equals what
    was published before the restatement, not what is published now, so it goes on."""
    day1 = _first_day(make_ctx)
    rows = _next_day(day1)
    day, open_, _, _, close = rows["A"][6][:5]
    rows["A"][6][4] = round((open_ + close) / 2, 4)
    _, results = _run_day2(make_ctx, rows)
    assert results["publish"]["published_rows"] == 3  # two new bars and the restated one

    day3 = dt.date(2024, 3, 11)  # the session after DAY2
    ctx = make_ctx(run_id="20240311T230000Z-cccccc", as_of=day3)
    back = {s: [list(r) for r in day_rows] for s, day_rows in rows.items()}
    back["A"][6][4] = close  # as it was on day 1
    land(ctx.storage, run_id="20240311T220000Z-i3", ingest_date=day3.isoformat(),
         bodies={s: csv_body([tuple(r) for r in day_rows]) for s, day_rows in back.items()})
    results = run_wap(ctx)

    assert results["write_temp"]["unchanged_rows"] == 2 * (SESSIONS + 1) - 1
    assert results["publish"]["published_rows"] == 1
    assert _published(ctx)[("A", day)]["close"] == close
    assert _totals(ctx)["reconciled"] is True
