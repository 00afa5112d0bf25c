"""The text as received (raw line, source file) of quarantined rows that write temp typed
without it: in a batch whose symbol and date keys are unique, write temp keeps the text only
of rows that did not parse (sql/wap/write_temp/write_temp.sql), and a row is identified by its
ingest run, symbol and trade date. The audit reads the text of its few failing rows again,
typed the same way, and the quarantine keeps it as it always did."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from glue_jobs.lake.errors import PipelineError

TEXT_COLUMNS = ("source_file", "raw_line")
KEY = ("ingest_run_id", "symbol", "trade_date")


def missing(rows: pa.Table) -> pa.Table:
    """Pure: the rows that came without their raw line."""
    return rows.filter(pc.is_null(rows.column("raw_line")))


def fill(rows: pa.Table, texts: pa.Table) -> pa.Table:
    """Pure: `rows` with the raw line and source file of each row that has none taken from
    `texts` (the same raw rows typed with their text), matched by ingest run, symbol and date.
    A row without its match stops the audit: quarantining it without its text would lose what
    was received."""
    found: dict[tuple, tuple] = {}
    for record in texts.select([*KEY, *TEXT_COLUMNS]).to_pylist():
        key = tuple(record[k] for k in KEY)
        if key in found:
            raise PipelineError(f"audit: two raw rows of ingest run {key[0]} hold {key[1]} {key[2]}; "
                                "write temp should have kept their text (a repeated key)")
        found[key] = tuple(record[c] for c in TEXT_COLUMNS)
    columns = {c: rows.column(c).to_pylist() for c in TEXT_COLUMNS}
    keys = rows.select(list(KEY)).to_pylist()
    for i, line in enumerate(columns["raw_line"]):
        if line is not None:
            continue
        key = tuple(keys[i][k] for k in KEY)
        if key not in found:
            raise PipelineError(f"audit: no raw row of ingest run {key[0]} holds {key[1]} {key[2]}, "
                                "which the audit quarantines; its raw line cannot be kept")
        for c, value in zip(TEXT_COLUMNS, found[key]):
            columns[c][i] = value
    for c in TEXT_COLUMNS:
        at = rows.column_names.index(c)
        rows = rows.set_column(at, rows.schema.field(c), pa.array(columns[c], rows.schema.field(c).type))
    return rows
