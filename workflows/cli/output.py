"""Query results as a person or a program wants them: an aligned table, CSV or JSON."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from typing import TextIO

import pyarrow as pa

FORMATS = ("table", "csv", "json")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return f"{value:.6g}" if 0 < abs(value) < 1e-3 or abs(value) >= 1e12 else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def _json_default(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def write_stream(reader: pa.RecordBatchReader, fmt: str, out: TextIO, *, max_rows: int | None = None) -> bool:
    """Write a query's rows to `out` as they come: CSV and JSON row by row, a table once its
    rows are in (it needs their widths). With `max_rows`, read at most max_rows + 1 rows, then
    stop the query; returns whether rows were left out. Memory stays within a batch (CSV,
    JSON) or max_rows rows (a table), whatever the query would return."""
    if fmt == "table":
        kept, more = _first_rows(reader, max_rows)
        out.write(render(pa.Table.from_batches(kept, schema=reader.schema), "table", more=more) + "\n")
        return more
    names = reader.schema.names
    written = 0
    more = False
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
    else:
        out.write("[")
    for batch in reader:
        rows = batch.to_pylist()
        if max_rows is not None and written + len(rows) > max_rows:
            rows, more = rows[:max_rows - written], True
        for row in rows:
            if fmt == "csv":
                writer.writerow(["" if row[n] is None else row[n] for n in names])
            else:  # exactly json.dumps(rows, indent=1), one row at a time
                out.write(("," if written else "") + "\n" + json.dumps([row], default=_json_default, indent=1)[2:-2])
            written += 1
        if more:
            break
    if fmt == "json":
        out.write("\n]\n" if written else "]\n")
    _close(reader)
    return more


def _first_rows(reader: pa.RecordBatchReader, max_rows: int | None) -> tuple[list[pa.RecordBatch], bool]:
    kept: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        if max_rows is not None and count + batch.num_rows > max_rows:
            kept.append(batch.slice(0, max_rows - count))
            _close(reader)
            return kept, True
        kept.append(batch)
        count += batch.num_rows
    return kept, False


def _close(reader: pa.RecordBatchReader) -> None:
    close = getattr(reader, "close", None)  # pyarrow >= 14; stops the producing query
    if close is not None:
        close()


def render(table: pa.Table, fmt: str = "table", *, max_rows: int | None = None, more: bool = False) -> str:
    """`more`: the table is the first rows of a longer result (write_stream stopped reading)."""
    rows = table.to_pylist()
    names = table.column_names
    if fmt == "json":
        return json.dumps(rows, default=_json_default, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row[n] is None else row[n] for n in names])
        return buf.getvalue().rstrip("\n")
    shown = rows if max_rows is None else rows[:max_rows]
    cells = [[_cell(r[n]) for n in names] for r in shown]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) for t in table.schema.types]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells]
    hidden = len(rows) - len(shown)
    if more:
        out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''} shown; there are more: raise --max-rows "
                   "or narrow the query with LIMIT / WHERE)")
    else:
        out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{f', {hidden} not shown' if hidden else ''})")
    return "\n".join(out)
