"""Query results as a person or a program wants them: an aligned table, CSV or JSON.

Values read as Athena shows them (its console and its CSV results): arrays [a, b], maps
{k=v}, doubles as Java prints them (185.64, 1.0E7), decimals exactly, timestamps
'YYYY-MM-DD HH:MM:SS.mmm', booleans true/false, NULL as an empty field. JSON keeps
bigint an integer and a decimal an exact string (see sql/README.md, "Results")."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import struct
from typing import TextIO

import pyarrow as pa

FORMATS = ("table", "csv", "json")


def java_double(value: float) -> str:
    """A double as Athena (Java's Double.toString, shortest round-trip digits) prints it:
    185.64, 100.0, 1.0E7, 1.0E-4, NaN, Infinity."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    return _java_decimal(repr(value), value)


def java_real(value: float) -> str:
    """A real (32-bit float) as Java's Float.toString prints it: the shortest digits that read
    back as the same float (1.1 as real prints 1.1, not 1.100000023841858)."""
    if value != value or value in (float("inf"), float("-inf")) or value == 0:
        return java_double(value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == struct.unpack("f", struct.pack("f", value))[0]:
            return _java_decimal(repr(float(text)), value)
    return _java_decimal(repr(value), value)


def _java_decimal(shortest: str, value: float) -> str:
    d = decimal.Decimal(shortest)
    if 1e-3 <= abs(value) < 1e7:
        text = format(d, "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = d.as_tuple()
    digits_text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + exponent - 1
    mantissa = digits_text[0] + "." + (digits_text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def _text(value: object, kind: pa.DataType | None, *, top: bool = True) -> str:
    """A value as Athena's console and CSV results show it: NULL as nothing at the top level
    (`null` inside an array or map), arrays as [a, b], maps as {k=v}, rows as {f=v},
    doubles as Java prints them, decimals exactly, timestamps with milliseconds."""
    if value is None:
        return "" if top else "null"
    if kind is not None and (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        return "[" + ", ".join(_text(v, kind.value_type, top=False) for v in value) + "]"
    if kind is not None and pa.types.is_map(kind):
        return "{" + ", ".join(f"{_text(k, kind.key_type, top=False)}={_text(v, kind.item_type, top=False)}"
                               for k, v in value) + "}"
    if kind is not None and pa.types.is_struct(kind):
        return "{" + ", ".join(f"{f.name}={_text(value.get(f.name), f.type, top=False)}" for f in kind) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_real(value) if kind is not None and pa.types.is_float32(kind) else java_double(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex(" ")
    return str(value)


def _cell(value: object, kind: pa.DataType | None = None) -> str:
    return _text(value, kind)


def _csv_line(values: list[object], kinds: list[pa.DataType | None]) -> str:
    """One CSV line: a field quoted when it must be (a comma, a quote, a line break), and an
    empty string quoted ("") so that it differs from NULL, which is an empty field."""
    fields = []
    for value, kind in zip(values, kinds):
        text = _text(value, kind)
        if (value is not None and text == "") or any(c in text for c in ',"\n\r'):
            text = '"' + text.replace('"', '""') + '"'
        fields.append(text)
    return ",".join(fields) + "\n"


def _json_value(value: object, kind: pa.DataType | None) -> object:
    """A value as JSON: bigint an integer, double a number (NaN and infinities as the strings
    Athena prints), decimal an exact string ("12.30"), date and timestamp Athena's text,
    arrays JSON arrays, maps JSON objects (keys as Athena prints them), NULL null."""
    if value is None:
        return None
    if kind is not None and (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        return [_json_value(v, kind.value_type) for v in value]
    if kind is not None and pa.types.is_map(kind):
        return {_text(k, kind.key_type, top=False): _json_value(v, kind.item_type) for k, v in value}
    if kind is not None and pa.types.is_struct(kind):
        return {f.name: _json_value(value.get(f.name), f.type) for f in kind}
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return java_double(value)
        return float(java_real(value)) if kind is not None and pa.types.is_float32(kind) else value
    if isinstance(value, (decimal.Decimal, dt.date, bytes)):
        return _text(value, kind)
    return str(value)


def _json_row(row: dict, kinds: dict[str, pa.DataType]) -> dict:
    return {n: _json_value(v, kinds.get(n)) for n, v in row.items()}


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
    kinds = dict(zip(names, reader.schema.types))
    written = 0
    more = False
    if fmt == "csv":
        out.write(_csv_line(list(names), [None] * len(names)))
    else:
        out.write("[")
    for batch in reader:
        rows = batch.to_pylist()
        if max_rows is not None and written + len(rows) > max_rows:
            rows, more = rows[:max_rows - written], True
        for row in rows:
            if fmt == "csv":
                out.write(_csv_line([row[n] for n in names], [kinds[n] for n in names]))
            else:  # exactly json.dumps(rows, indent=1), one row at a time
                out.write(("," if written else "") + "\n" + json.dumps([_json_row(row, kinds)], indent=1)[2:-2])
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
    kinds = dict(zip(names, table.schema.types))
    if fmt == "json":
        return json.dumps([_json_row(r, kinds) for r in rows], indent=1)
    if fmt == "csv":
        lines = [_csv_line(list(names), [None] * len(names))]
        lines += [_csv_line([row[n] for n in names], [kinds[n] for n in names]) for row in rows]
        return "".join(lines).rstrip("\n")
    shown = rows if max_rows is None else rows[:max_rows]
    cells = [[_cell(r[n], kinds[n]) for n in names] for r in shown]
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
