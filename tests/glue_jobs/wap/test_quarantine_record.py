"""stocks.daily_prices_quarantine is the record of what each fetch sent that was held back: a row
is kept once per ingest run, symbol and raw line (sql/wap/publish/quarantine.sql). The CSV line
carries neither the symbol nor the ingest run, so two symbols, or two fetches, can send the
very same line, and each must keep its own record."""
from __future__ import annotations

from glue_jobs.lake import trading_calendar
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

SATURDAY = ("2024-03-02", "9", "10", "8", "9.5", "100")  # a bar on no session: quarantined
SETTINGS = {"audit_max_quarantine_share": 0.2}


def _held(ctx) -> list[tuple]:
    rows = ctx.engine.query("select symbol, ingest_run_id, run_id, raw_line from stocks.daily_prices_quarantine "
                            "order by symbol, ingest_run_id").to_pylist()
    return [(r["symbol"], r["ingest_run_id"], r["run_id"], r["raw_line"]) for r in rows]


def test_two_symbols_sending_the_same_bad_line_each_keep_their_quarantined_row(make_ctx):
    sessions = trading_calendar.last_sessions(AS_OF, 10)
    ctx = make_ctx(run_id="20240308T230000Z-aaaaaa", settings=SETTINGS)
    land(ctx.storage, run_id="20240308T220000Z-i1", ingest_date=AS_OF.isoformat(),
         bodies={s: csv_body(bars(s, sessions) + [SATURDAY]) for s in ("AAA", "BBB")})
    results = run_wap(ctx)

    assert results["audit"]["quarantined_rows"] == 2
    line = ",".join(SATURDAY)
    assert _held(ctx) == [("AAA", "20240308T220000Z-i1", ctx.run_id, line),
                          ("BBB", "20240308T220000Z-i1", ctx.run_id, line)]


def test_a_bad_line_sent_again_by_a_later_fetch_is_recorded_for_that_fetch_too(make_ctx):
    sessions = trading_calendar.last_sessions(AS_OF, 10)
    body = csv_body(bars("AAA", sessions) + [SATURDAY])
    first = make_ctx(run_id="20240308T230000Z-aaaaaa", settings=SETTINGS)
    land(first.storage, run_id="20240308T220000Z-i1", ingest_date=AS_OF.isoformat(), bodies={"AAA": body})
    run_wap(first)
    second = make_ctx(run_id="20240308T235000Z-bbbbbb", settings=SETTINGS)
    land(second.storage, run_id="20240308T234000Z-i2", ingest_date=AS_OF.isoformat(), bodies={"AAA": body})
    results = run_wap(second)

    assert results["audit"]["quarantined_rows"] == 1
    assert results["publish"]["quarantine_partitions_written"] == 1
    line = ",".join(SATURDAY)
    assert _held(second) == [("AAA", "20240308T220000Z-i1", first.run_id, line),
                             ("AAA", "20240308T234000Z-i2", second.run_id, line)]
