"""Query results as a person or a program wants them: an aligned table, CSV or JSON."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json

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


def render(table: pa.Table, fmt: str = "table", *, max_rows: int | None = None) -> str:
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
    more = len(rows) - len(shown)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{f', {more} not shown' if more else ''})")
    return "\n".join(out)
