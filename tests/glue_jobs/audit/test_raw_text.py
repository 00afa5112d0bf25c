"""The text of quarantined rows typed without it (glue_jobs/audit/raw_text.py): taken from the
same raw rows typed with their text, matched by ingest run, symbol and date; a row with no
match, or with two, stops the audit instead of quarantining a row without the line received."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from glue_jobs.audit import raw_text
from glue_jobs.lake.errors import PipelineError

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)


def _rows(*rows: tuple) -> pa.Table:
    names = ["ingest_run_id", "symbol", "trade_date", "source_file", "raw_line"]
    types = [pa.string(), pa.string(), pa.date32(), pa.string(), pa.string()]
    return pa.table({n: pa.array([r[i] for r in rows], t) for i, (n, t) in enumerate(zip(names, types))})


def test_only_rows_without_a_line_take_the_text_of_their_own_run_symbol_and_date():
    failing = _rows(("i1", "A", D1, None, None), ("i1", "B", D1, None, None),
                    ("i1", "A", D2, "raw/a.csv", "2024-03-08,1,2,0.5,x,1"))
    texts = _rows(("i2", "A", D1, "raw/a2.csv", "2024-03-07,9,9,9,9,9"), ("i1", "A", D1, "raw/a.csv", "2024-03-07,1.0,2,0.5,1,10"),
                  ("i1", "B", D1, "raw/b.csv", "2024-03-07,3,2,4,3,7"), ("i1", "A", D2, "raw/a.csv", "other"))
    filled = raw_text.fill(failing, texts)
    assert filled.select(["source_file", "raw_line"]).to_pylist() == [
        {"source_file": "raw/a.csv", "raw_line": "2024-03-07,1.0,2,0.5,1,10"},
        {"source_file": "raw/b.csv", "raw_line": "2024-03-07,3,2,4,3,7"},
        {"source_file": "raw/a.csv", "raw_line": "2024-03-08,1,2,0.5,x,1"},  # kept as write temp wrote it
    ]
    assert filled.schema == failing.schema
    assert raw_text.missing(filled).num_rows == 0 and raw_text.missing(failing).num_rows == 2


def test_a_row_whose_text_cannot_be_found_or_is_not_unique_stops_the_audit():
    failing = _rows(("i1", "A", D1, None, None))
    with pytest.raises(PipelineError, match="no raw row of ingest run i1 holds A 2024-03-07"):
        raw_text.fill(failing, _rows(("i1", "A", D2, "raw/a.csv", "2024-03-08,1,2,0.5,1,10")))
    with pytest.raises(PipelineError, match="two raw rows of ingest run i1 hold A 2024-03-07"):
        raw_text.fill(failing, _rows(("i1", "A", D1, "raw/a.csv", "x"), ("i1", "A", D1, "raw/a.csv", "y")))
