"""Which fetched rows write_temp leaves out as already published (sql/wap/write_temp/changed_rows.sql):
only a row equal in every price and the volume to the published bar of its own symbol and
date, parsed whole, not still forming, and alone on its key. Any other row goes on to the audit
and publish; leaving one out by mistake loses a correction, or a row the audit must quarantine,
without a trace."""
from __future__ import annotations

import datetime as dt

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
