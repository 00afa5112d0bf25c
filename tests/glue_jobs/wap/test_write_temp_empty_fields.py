"""A stray comma leaves one field empty and pushes the rest one place right (a 7th field). The
local engine reads an empty field as null, Athena as '' (sql/wap/write_temp/write_temp.sql): either
way the row must keep the line as received and say which field is missing and what arrived
after volume, not pass as a well-formed line of the six fields that are left."""
from __future__ import annotations

from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import land

LINES = {  # symbol -> the line as sent: the empty field is the one named
    "TS": ",2024-03-06,1,2,0.5,1.5,10",
    "OP": "2024-03-06,,1,2,0.5,1.5,10",
    "HI": "2024-03-06,1,,2,0.5,1.5,10",
    "LO": "2024-03-06,1,2,,0.5,1.5,10",
    "CL": "2024-03-06,1,2,0.5,,1.5,10",
    "VO": "2024-03-06,1,2,0.5,1.5,,10",
}


def test_a_line_with_one_empty_field_and_a_seventh_is_held_as_received_naming_both(ctx):
    header = "timestamp,open,high,low,close,volume\r\n"
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08",
         bodies={s: (header + line + "\r\n").encode() for s, line in LINES.items()})
    crawl.run(ctx)
    drop_temp.run(ctx)
    write_temp.run(ctx)

    rows = ctx.engine.query("select symbol, raw_line, parse_error from stocks.tmp_daily_prices").to_pylist()
    assert {r["symbol"]: r["raw_line"] for r in rows} == LINES
    errors = {r["symbol"]: r["parse_error"] for r in rows}
    assert errors == {
        "TS": "timestamp is missing; open '2024-03-06' is not a number; volume '1.5' is not a whole number; "
              "the row has an extra field '10' after volume '1.5' (an unquoted thousands separator, volume "
              "'1.5,10'?)",
        "OP": "open is missing; volume '1.5' is not a whole number; the row has an extra field '10' after "
              "volume '1.5' (an unquoted thousands separator, volume '1.5,10'?)",
        "HI": "high is missing; volume '1.5' is not a whole number; the row has an extra field '10' after "
              "volume '1.5' (an unquoted thousands separator, volume '1.5,10'?)",
        "LO": "low is missing; volume '1.5' is not a whole number; the row has an extra field '10' after "
              "volume '1.5' (an unquoted thousands separator, volume '1.5,10'?)",
        "CL": "close is missing; volume '1.5' is not a whole number; the row has an extra field '10' after "
              "volume '1.5' (an unquoted thousands separator, volume '1.5,10'?)",
        "VO": "volume is missing; the row has an extra field '10' after volume '' (an unquoted thousands "
              "separator, volume ',10'?)",
    }
