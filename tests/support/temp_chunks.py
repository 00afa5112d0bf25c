"""Chunks of stocks.tmp_daily_prices for the audit's tests: valid rows, with the values a test
gives written over them."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

GOOD_ROW = dict(symbol="AAA", trade_date=dt.date(2024, 3, 7), open=10.0, high=11.0, low=9.5, close=10.5,
                volume=1000, fetched_at=dt.datetime(2024, 3, 8, 21, 30), forming_date=None, run_id="i1",
                ingest_date="2024-03-08", source_file="raw/AAA.csv", raw_line="2024-03-07,10,11,9.5,10.5,1000",
                parse_error=None, trade_year=2024)
SCHEMA = pa.schema([("symbol", pa.string()), ("trade_date", pa.date32()), ("open", pa.float64()),
                    ("high", pa.float64()), ("low", pa.float64()), ("close", pa.float64()),
                    ("volume", pa.int64()), ("fetched_at", pa.timestamp("us")), ("forming_date", pa.date32()),
                    ("run_id", pa.string()), ("ingest_date", pa.string()), ("source_file", pa.string()),
                    ("raw_line", pa.string()), ("parse_error", pa.string()), ("trade_year", pa.int32())])


def temp_chunk(rows: list[dict]) -> pa.Table:
    """A chunk of stocks.tmp_daily_prices with the given values over a valid row."""
    return pa.Table.from_pylist([dict(GOOD_ROW, **r) for r in rows], schema=SCHEMA)


def narrow(table: pa.Table) -> pa.Table:
    """The chunk as the audit first reads it: without the wide provenance columns."""
    return table.drop_columns(["raw_line", "source_file"])
