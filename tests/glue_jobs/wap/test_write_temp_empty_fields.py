"""Fields the text reader gives as null: `\\N` (LazySimpleSerDe's null, on Athena and the local
engine alike) and the fields a short line does not have. A null field with a 7th after volume
must not pass as a well-formed line of the six fields that are left
(sql/wap/write_temp/write_temp.sql); the row keeps its line, a null as an empty field, and says
which field is missing."""
from __future__ import annotations

from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import land

LINES = {  # symbol -> the line as kept; the empty field, the one named, is sent as \N
    "TS": ",2024-03-06,1,2,0.5,1.5,10",
    "OP": "2024-03-06,,1,2,0.5,1.5,10",
    "HI": "2024-03-06,1,,2,0.5,1.5,10",
    "LO": "2024-03-06,1,2,,0.5,1.5,10",
    "CL": "2024-03-06,1,2,0.5,,1.5,10",
    "VO": "2024-03-06,1,2,0.5,1.5,,10",
}


def _sent(line: str) -> str:
    return "\\N" + line if line.startswith(",") else line.replace(",,", ",\\N,")


def test_a_null_field_and_a_seventh_or_a_short_line_are_held_naming_what_is_missing(ctx):
    header = "timestamp,open,high,low,close,volume\r\n"
    bodies = {s: (header + _sent(line) + "\r\n").encode() for s, line in LINES.items()}
    bodies["SH"] = (header + "2024-03-06\r\n").encode()
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies=bodies)
    crawl.run(ctx)
    drop_temp.run(ctx)
    write_temp.run(ctx)

    rows = ctx.engine.query("select symbol, raw_line, parse_error from stocks.tmp_daily_prices").to_pylist()
    assert {r["symbol"]: r["raw_line"] for r in rows} == {**LINES, "SH": "2024-03-06,,,,,"}
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
        "SH": "open is missing; high is missing; low is missing; close is missing; volume is missing",
    }
