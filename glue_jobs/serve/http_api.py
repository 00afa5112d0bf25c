"""Pure: the serving table's read API, shared by `tickerlake serve get`, `tickerlake serve http`
(a server on 127.0.0.1) and the Lambda behind a function URL (workflows/entry/serve_http.py):
one parser for what is asked, one renderer for what is answered, so the three agree.

    GET /bars/{symbol}?from=YYYY-MM-DD&to=YYYY-MM-DD&last=N   -> 200, a JSON array of bars
    a bad symbol, date, count or parameter                    -> 400 {"error": "..."}
    a symbol the table does not hold, any other path          -> 404 {"error": "..."}
    a method other than GET                                 -> 405 {"error": "..."}

A bar in JSON: {"symbol", "trade_date", "open", "high", "low", "close", "volume",
"ingest_run_id", "version"}, prices as JSON numbers printed from the exact decimal (185.64,
never 185.63999999999999)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, unquote

from glue_jobs.ports.serving import Bar, ServingTable

SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")  # as workflows/settings.py accepts symbols
PARAMS = ("from", "to", "last")
MAX_LAST = 100_000
JSON_TYPE = "application/json"
FIELDS = ("symbol", "trade_date", "open", "high", "low", "close", "volume", "ingest_run_id", "version")


class ApiError(Exception):
    """A request the API refuses: the status and one line saying why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class BarsQuery:
    symbol: str
    start: str | None = None
    end: str | None = None
    last: int | None = None


def parse_symbol(text: str) -> str:
    symbol = (text or "").strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise ApiError(400, f"symbol {text!r} is not a ticker: letters, digits, '.' and '-', at most 15 (e.g. AAPL, BRK.B)")
    return symbol


def parse_date(name: str, text: str | None) -> str | None:
    if text is None or text == "":
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ApiError(400, f"{name} {text!r} is not a date: use YYYY-MM-DD, e.g. 2024-06-03") from None


def parse_last(text: str | int | None) -> int | None:
    if text is None or text == "":
        return None
    if not isinstance(text, int) and not re.fullmatch(r"\d{1,9}", text.strip()):
        raise ApiError(400, f"last {text!r} is not a whole number: give 1 or more, e.g. 20")
    value = int(text)
    if not 1 <= value <= MAX_LAST:
        raise ApiError(400, f"last {value}: give 1 to {MAX_LAST}")
    return value


def bars_query(symbol: str, start: str | None = None, end: str | None = None,
               last: str | int | None = None, *, names: Mapping[str, str] | None = None) -> BarsQuery:
    """The checked query; `names` says how each bound is called where it came from (the CLI's
    --from, the URL's from=), so the error names what the user typed."""
    names = {"from": "from", "to": "to", "last": "last", **(names or {})}
    query = BarsQuery(parse_symbol(symbol), parse_date(names["from"], start), parse_date(names["to"], end),
                      _last(names["last"], last))
    if query.start and query.end and query.start > query.end:
        raise ApiError(400, f"{names['from']} {query.start} is after {names['to']} {query.end}")
    return query


def _last(name: str, text: str | int | None) -> int | None:
    try:
        return parse_last(text)
    except ApiError as exc:
        raise ApiError(400, exc.message.replace("last", name, 1)) from None


def route(method: str, path: str, query_string: str = "") -> BarsQuery:
    """A request's method, path and query string as a BarsQuery, or the ApiError to answer."""
    if method.upper() != "GET":
        raise ApiError(405, f"method {method} is not allowed: only GET /bars/{{symbol}}")
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or parts[0] != "bars":
        raise ApiError(404, f"no such path {path!r}: ask GET /bars/{{symbol}}?from=YYYY-MM-DD&to=YYYY-MM-DD&last=N")
    try:
        params = parse_qs(query_string or "", keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except ValueError:
        raise ApiError(400, "too many query parameters: from, to and last are known") from None
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ApiError(400, f"unknown parameter {unknown[0]!r}: from, to and last are known")
    repeated = sorted(k for k, v in params.items() if len(v) > 1)
    if repeated:
        raise ApiError(400, f"parameter {repeated[0]!r} is given {len(params[repeated[0]])} times: give it once")
    one = {k: v[0] for k, v in params.items()}
    return bars_query(unquote(parts[1]), one.get("from"), one.get("to"), one.get("last"))


def fetch(serving: ServingTable, query: BarsQuery) -> list[Bar]:
    """The bars asked for; an ApiError 404 when the table holds no row of the symbol at all (an
    empty range of a symbol it holds is an empty answer, not an error)."""
    bars = serving.get_bars(query.symbol, start=query.start, end=query.end, last=query.last)
    if not bars and not serving.get_bars(query.symbol, last=1):
        raise ApiError(404, f"no bars for symbol {query.symbol} in the serving table")
    return bars


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = JSON_TYPE


def handle(serving: ServingTable, method: str, path: str, query_string: str = "") -> Response:
    """One request, answered: 200 with the bars, or the error as JSON with its status."""
    try:
        return Response(200, bars_json(fetch(serving, route(method, path, query_string))))
    except ApiError as exc:
        return error_response(exc.status, exc.message)


def error_response(status: int, message: str) -> Response:
    return Response(status, json.dumps({"error": message}) + "\n")


# -- rendering ---------------------------------------------------------------------------------


def number_text(value: Decimal | int) -> str:
    """A number as JSON and CSV print it: the exact decimal in plain notation (185.64, 100.0,
    0.0001; never 1E+2 or float noise)."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def _values(bar: Bar) -> list[str | Decimal | int]:
    return [getattr(bar, f) for f in FIELDS]


def bar_json(bar: Bar) -> str:
    """One bar as a JSON object; prices and volume as JSON numbers from their exact text."""
    items = []
    for name, value in zip(FIELDS, _values(bar)):
        text = number_text(value) if isinstance(value, (Decimal, int)) else json.dumps(value)
        items.append(f"{json.dumps(name)}: {text}")
    return "{" + ", ".join(items) + "}"


def bars_json(bars: Sequence[Bar]) -> str:
    """A JSON array of bars, one per line."""
    if not bars:
        return "[]\n"
    return "[\n" + ",\n".join(" " + bar_json(b) for b in bars) + "\n]\n"


def bars_csv(bars: Sequence[Bar]) -> str:
    lines = [",".join(FIELDS)]
    for bar in bars:
        lines.append(",".join(number_text(v) if isinstance(v, (Decimal, int)) else _csv_field(str(v))
                              for v in _values(bar)))
    return "\n".join(lines) + "\n"


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def bars_table(bars: Sequence[Bar]) -> str:
    """An aligned table for a person: numbers right-aligned, a count at the end."""
    numeric = {"open", "high", "low", "close", "volume"}
    cells = [[number_text(v) if isinstance(v, (Decimal, int)) else str(v) for v in _values(b)] for b in bars]
    widths = [max([len(f)] + [len(row[i]) for row in cells]) for i, f in enumerate(FIELDS)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if f in numeric else v.ljust(w)
                         for f, v, w in zip(FIELDS, values, widths)).rstrip()

    out = [line(FIELDS), "  ".join("-" * w for w in widths)] + [line(c) for c in cells]
    out.append(f"({len(bars)} bar{'s' if len(bars) != 1 else ''})")
    return "\n".join(out) + "\n"


RENDERERS = {"json": bars_json, "csv": bars_csv, "table": bars_table}
