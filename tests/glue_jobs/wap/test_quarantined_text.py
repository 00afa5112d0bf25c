"""A row that parsed is typed without its text (write temp keeps the raw line and source file
only of rows that did not parse, or of every row in a batch that repeats a key). When the audit
quarantines such a row, the quarantine must still hold the line as received and the file it
came in, and publish must leave out exactly that row: the batch identifies it by ingest run,
symbol and date."""
from __future__ import annotations

import datetime as dt
import json

from glue_jobs.lake import layout, trading_calendar
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

AS_OF = dt.date(2024, 3, 8)


def _quarantine(ctx) -> list[dict]:
    return ctx.engine.query(
        "select symbol, cast(trade_date as varchar) as day, ingest_run_id, source_file, raw_line, rule "
        "from stocks.daily_prices_quarantine order by symbol, trade_date").to_pylist()


def _published_days(ctx, symbol: str) -> list[str]:
    return [r["day"] for r in ctx.engine.query(
        "select cast(trade_date as varchar) as day from stocks.daily_prices "
        f"where symbol = '{symbol}' order by trade_date").to_pylist()]


def test_a_typed_row_the_audit_holds_back_keeps_its_line_as_received_and_only_it_is_left_out(make_ctx):
    ctx = make_ctx(run_id="20240308T230000Z-qqqqqq", as_of=AS_OF)
    sessions = trading_calendar.last_sessions(AS_OF, 60)  # 5 held back stay under 5 %
    a, b = bars("A", sessions), bars("B", sessions)
    # high and low swapped, written as a vendor might ("52.12340", "+51.9"): typing keeps the
    # values, not the text, and the quarantine must show the text
    for rows, at in ((a, 2), (a, 5), (b, 2), (b, 6)):  # B's 2 is A's date, in another file
        day, open_, high, low, close, volume = rows[at]
        rows[at] = (day, f"{open_}0", f"+{low}", str(high), str(close), str(volume))
    a[8] = (a[8][0], str(a[8][1]), str(a[8][2]), str(a[8][3]), "n/a", str(a[8][5]))  # did not parse: kept as it is
    land(ctx.storage, run_id="20240308T220000Z-i1", ingest_date="2024-03-08",
         bodies={"A": csv_body(a), "B": csv_body(b[:4])})
    land(ctx.storage, run_id="20240308T221500Z-i2", ingest_date="2024-03-08",
         bodies={"B": csv_body(b[4:])})  # B's older bars fetched by a second ingest run

    run_wap(ctx)

    def held(symbol, rows, at, run, rule="high_is_highest,low_is_lowest"):
        return {"symbol": symbol, "day": rows[at][0], "ingest_run_id": run, "rule": rule,
                "source_file": ctx.storage.uri(layout.raw_key("2024-03-08", symbol, run)),
                "raw_line": ",".join(rows[at])}

    assert _quarantine(ctx) == [held("A", a, 8, "20240308T220000Z-i1", "parse_ok"),
                                held("A", a, 5, "20240308T220000Z-i1"), held("A", a, 2, "20240308T220000Z-i1"),
                                held("B", b, 6, "20240308T221500Z-i2"), held("B", b, 2, "20240308T220000Z-i1")]
    assert _published_days(ctx, "A") == sorted(r[0] for i, r in enumerate(a) if i not in (2, 5, 8))
    assert _published_days(ctx, "B") == sorted(r[0] for i, r in enumerate(b) if i not in (2, 6))
    totals = json.loads(ctx.storage.get_bytes(layout.run_log_key(ctx.run_id)))["totals"]
    assert totals["quarantined_rows"] == 5 and totals["reconciled"] is True
