"""The tables the WAP stages create, declared once: what the catalog holds for each.

Published `stocks.daily_prices` and its quarantine are partitioned by `trade_year`: a year is
a well-sized Parquet file, Athena prunes by year, and a daily run rewrites only the current
year. Quarantined rows whose date did not parse file under the year they were ingested.
"""
from __future__ import annotations

from glue_jobs.lake import layout
from glue_jobs.ports.catalog import Column, TableDef

DB = layout.DATABASE

# The header Alpha Vantage's TIME_SERIES_DAILY CSV has; anything else is schema drift.
RAW_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
# A 7th column the header does not have: null on a well-formed row. Both engines read CSV
# fields by position and drop the ones past the last column, so without it a row whose
# volume arrived as an unquoted 1,234 would read as volume 1; with it the 234 lands here and
# wap/write_temp/write_temp.sql makes the row a parse error.
RAW_EXTRA_FIELD = "extra_field"

PRICE_COLUMNS = [
    Column("symbol", "string"),
    Column("trade_date", "date"),
    Column("open", "double"),
    Column("high", "double"),
    Column("low", "double"),
    Column("close", "double"),
    Column("volume", "bigint"),
    Column("fetched_at", "timestamp"),
    # the ingest run whose raw body holds the row (with fetched_at: the row's provenance); the
    # pipeline run is run_id everywhere (stocks.pipeline_runs, the quarantine's run_id)
    Column("ingest_run_id", "string"),
]

QUARANTINE_COLUMNS = [
    Column("symbol", "string"),
    Column("trade_date", "date"),  # null when the date did not parse
    Column("open", "double"),
    Column("high", "double"),
    Column("low", "double"),
    Column("close", "double"),
    Column("volume", "bigint"),
    Column("fetched_at", "timestamp"),
    Column("ingest_run_id", "string"),
    Column("ingest_date", "string"),
    Column("source_file", "string"),
    Column("raw_line", "string"),  # the row as it arrived, fields joined by ','
    Column("rule", "string"),  # every rule the row failed, comma-separated
    Column("reason", "string"),  # what is wrong, in words, naming symbol, date and values
    Column("run_id", "string"),  # the pipeline run whose audit quarantined the row
]

TRADE_YEAR = Column("trade_year", "int")

TEMP_COLUMNS = [
    Column("symbol", "string"),
    Column("trade_date", "date"),
    Column("open", "double"),
    Column("high", "double"),
    Column("low", "double"),
    Column("close", "double"),
    Column("volume", "bigint"),
    Column("fetched_at", "timestamp"),
    Column("forming_date", "date"),
    Column("ingest_run_id", "string"),
    Column("ingest_date", "string"),
    # the text as received: null for a row that parsed, unless the batch repeats a symbol and
    # date (wap/write_temp/write_temp.sql); the audit reads it again for a row it quarantines
    Column("source_file", "string"),
    Column("raw_line", "string"),
    Column("parse_error", "string"),
    TRADE_YEAR,
]

FETCHES_COLUMNS = [
    Column("ingest_run_id", "string"),
    Column("symbol", "string"),
    Column("fetched_at", "string"),  # 'YYYY-MM-DD HH:MM:SS.ffffff', UTC
    Column("forming_date", "string"),  # 'YYYY-MM-DD' or empty
    Column("manifest_rows", "string"),
]


def raw_daily() -> TableDef:
    return TableDef(
        database=DB,
        name=layout.RAW_TABLE,
        location=layout.RAW_PREFIX,
        format="csv",
        columns=[Column(name, "string") for name in (*RAW_HEADER, RAW_EXTRA_FIELD)],
        # The object keys spell the last one run_id= (raw objects are never rewritten; see
        # layout.py): catalogs register partition values by position, not by the path's names.
        partition_keys=[Column("ingest_date", "string"), Column("symbol", "string"),
                        Column("ingest_run_id", "string")],
        properties={"skip.header.line.count": "1", "classification": "csv"},
    )


def daily_prices() -> TableDef:
    return TableDef(
        database=DB,
        name=layout.PUBLISHED_TABLE,
        location=layout.table_prefix(layout.PUBLISHED_TABLE),
        format="parquet",
        columns=list(PRICE_COLUMNS),
        partition_keys=[TRADE_YEAR],
        properties={"classification": "parquet"},
    )


def daily_prices_quarantine() -> TableDef:
    return TableDef(
        database=DB,
        name=layout.QUARANTINE_TABLE,
        location=layout.table_prefix(layout.QUARANTINE_TABLE),
        format="parquet",
        columns=list(QUARANTINE_COLUMNS),
        partition_keys=[TRADE_YEAR],
        properties={"classification": "parquet"},
    )


def temp_prices(run_id: str) -> TableDef:
    return TableDef(
        database=DB,
        name=layout.TEMP_TABLE,
        location=layout.temp_prefix(layout.TEMP_TABLE, run_id),
        format="parquet",
        columns=list(TEMP_COLUMNS),
        properties={"classification": "parquet", "wap_run_id": run_id},
    )


def temp_fetched(run_id: str, location: str) -> TableDef:
    """Every row this run fetched, de-duplicated, where write_temp wrote them (the rows of
    stocks.tmp_daily_prices plus those identical to what is published). published_as_is marks
    the latter where write temp's typing pass compared the rows with the published years (those
    rows are written without their raw line); a row it did not compare reads null."""
    return TableDef(
        database=DB,
        name=layout.TEMP_FETCHED_TABLE,
        location=location,
        format="parquet",
        columns=[*TEMP_COLUMNS, Column("published_as_is", "boolean")],
        properties={"classification": "parquet", "wap_run_id": run_id},
    )


def temp_quarantine(run_id: str) -> TableDef:
    return TableDef(
        database=DB,
        name=layout.TEMP_QUARANTINE_TABLE,
        location=layout.temp_prefix(layout.TEMP_QUARANTINE_TABLE, run_id),
        format="parquet",
        columns=[*QUARANTINE_COLUMNS, TRADE_YEAR],
        properties={"classification": "parquet", "wap_run_id": run_id},
    )


def temp_fetches(run_id: str) -> TableDef:
    return TableDef(
        database=DB,
        name=layout.TEMP_FETCHES_TABLE,
        location=layout.temp_prefix(layout.TEMP_FETCHES_TABLE, run_id),
        format="csv",
        columns=list(FETCHES_COLUMNS),
        properties={"skip.header.line.count": "1", "classification": "csv", "wap_run_id": run_id},
    )
