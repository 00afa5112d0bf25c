"""The SQL that types ingest runs' raw rows (sql/wap/write_temp/write_temp.sql), for write temp
(every row, the text as received only where a row did not parse) and for the audit (the text of
the few rows it quarantines, read again)."""
from __future__ import annotations

from glue_jobs.lake import ingest_queue, sql_files

TYPING = "wap/write_temp/write_temp.sql"


def typed_rows_params(runs: list[ingest_queue.IngestRun], *, keep_text: bool,
                      symbols: list[str] | None = None) -> dict:
    """write_temp.sql's parameters over these ingest runs' raw rows (only `symbols`' when given),
    each row keeping its raw line and source file when `keep_text` (else only the rows that did
    not parse)."""
    return {**ingest_queue.raw_sql_params(runs), "keep_text": keep_text,
            "every_symbol": symbols is None, "only_symbols": sorted(symbols or [])}


def typed_rows_sql(runs: list[ingest_queue.IngestRun], *, keep_text: bool, symbols: list[str] | None = None) -> str:
    """write_temp.sql rendered with typed_rows_params."""
    return sql_files.render(TYPING, typed_rows_params(runs, keep_text=keep_text, symbols=symbols))
