"""Pure parsing and validation of a dropped CSV file: no I/O, values in, values out.

Two formats are accepted (README, "Dropping files"):

    alphavantage  Alpha Vantage's daily CSV, header exactly timestamp,open,high,low,close,volume;
                  one symbol, named by --symbol or by the file name (IBM.csv, daily_IBM.csv)
    generic       a header with symbol, date, open, high, low, close, volume in any order
                  (names case-insensitive; `timestamp` may stand for `date`; other columns are
                  ignored and reported); any number of symbols, split into one body per symbol

A file is refused whole (DropRejected, every problem naming its row and column) when it is not
UTF-8 text, has no known header, holds no data row, or a row is malformed: a wrong number of
fields, a symbol that is missing or not a ticker, a date that is not YYYY-MM-DD, a price that is
not a number, a volume that is not a whole number. Whether a well-formed bar is plausible (prices
> 0, high >= low, a trading session, ...) is the audit's question, not this module's: such a row
lands and is quarantined with its reason.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

ALPHAVANTAGE = "alphavantage"
GENERIC = "generic"
AV_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
GENERIC_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")
DATE_ALIASES = ("timestamp",)
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_WHOLE_RE = re.compile(r"^[+-]?\d{1,18}$")
_NAME_PREFIXES = ("daily_adjusted_", "daily_", "daily-")  # Alpha Vantage's download names: daily_IBM.csv
MAX_PROBLEMS_LISTED = 10
# What exports and downloads are called: a file so named (export.csv, data-2024.csv) names no
# ticker, and landing it as EXPORT would publish bars under a symbol that does not exist.
_GENERIC_WORDS = frozenset({
    "bars", "copy", "daily", "data", "download", "downloads", "export", "exports", "file", "historical",
    "history", "new", "ohlc", "ohlcv", "output", "price", "prices", "quote", "quotes", "report", "results",
    "sample", "sheet", "stock", "stocks", "table", "test", "timeseries", "untitled",
})


class DropRejected(ValueError):
    """The file cannot be landed; `problems` name the row and column of each."""

    def __init__(self, name: str, problems: list[str]):
        self.name = name
        self.problems = list(problems)
        shown = problems[:MAX_PROBLEMS_LISTED]
        more = len(problems) - len(shown)
        text = f"{name}: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(text)


@dataclass(frozen=True)
class Bar:
    """One row as text, in Alpha Vantage's column order."""

    date: str
    open: str
    high: str
    low: str
    close: str
    volume: str

    def line(self) -> str:
        return ",".join((self.date, self.open, self.high, self.low, self.close, self.volume))


@dataclass
class ParsedDrop:
    name: str
    format: str
    sha256: str
    bars: dict[str, list[Bar]] = field(default_factory=dict)  # symbol -> its rows in file order
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(b) for b in self.bars.values())

    def body(self, symbol: str) -> bytes:
        """The raw body of one symbol, as Alpha Vantage's CSV: what write_temp reads from raw."""
        lines = [",".join(AV_HEADER)] + [bar.line() for bar in self.bars[symbol]]
        return ("\n".join(lines) + "\n").encode()


def content_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def symbol_from_name(name: str) -> str | None:
    """The ticker a file name carries (IBM.csv, daily_IBM.csv, ibm.CSV), or None."""
    stem = name.rsplit("/", 1)[-1]
    stem = stem[: -len(".csv")] if stem.lower().endswith(".csv") else stem
    lowered = stem.lower()
    for prefix in _NAME_PREFIXES:
        if lowered.startswith(prefix):
            stem = stem[len(prefix):]
            break
    candidate = stem.strip().upper()
    if re.split(r"[-. ]", candidate, maxsplit=1)[0].lower() in _GENERIC_WORDS:
        return None
    return candidate if SYMBOL_RE.match(candidate) else None


def parse_drop(data: bytes, name: str, symbol: str | None = None) -> ParsedDrop:
    """The dropped file `data` (its name as given, for the symbol and the messages) as bars per
    symbol, or DropRejected naming every problem found."""
    text = _text(data, name)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # trailing blank lines
    if not rows:
        raise DropRejected(name, ["the file is empty: expected a header line and at least one row"])
    header = [cell.strip().lower() for cell in rows[0]]
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if tuple(header) == AV_HEADER:
        parsed = _alphavantage(body, name, symbol)
    elif "symbol" in header:
        parsed = _generic(header, body, name, symbol)
    else:
        raise DropRejected(name, [
            f"row 1: header {','.join(rows[0])!r} is neither Alpha Vantage's daily CSV "
            f"({','.join(AV_HEADER)}) nor the generic format (columns {','.join(GENERIC_COLUMNS)}, any order)"])
    parsed.sha256 = content_sha256(data)
    if not parsed.rows:
        raise DropRejected(name, ["the file has a header but no data row"])
    return parsed


def _text(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DropRejected(name, [f"byte {exc.start}: the file is not UTF-8 text (is it a spreadsheet, "
                                  "not a CSV export?)"]) from None
    return text[1:] if text.startswith("\ufeff") else text  # a BOM from spreadsheet exports


def _alphavantage(body: list[tuple[int, list[str]]], name: str, symbol: str | None) -> ParsedDrop:
    chosen = (symbol or "").strip().upper() or symbol_from_name(name)
    if not chosen:
        raise DropRejected(name, ["the Alpha Vantage CSV carries no symbol and the file name does not "
                                  "name one (e.g. IBM.csv): give it with --symbol"])
    if not SYMBOL_RE.match(chosen):
        raise DropRejected(name, [f"--symbol {symbol!r} is not a ticker (letters, digits, '.', '-')"])
    problems: list[str] = []
    bars = [_bar(number, dict(zip(AV_HEADER, row)), len(row), len(AV_HEADER), "timestamp", problems)
            for number, row in body]
    if problems:
        raise DropRejected(name, problems)
    return ParsedDrop(name, ALPHAVANTAGE, "", {chosen: bars})


def _generic(header: list[str], body: list[tuple[int, list[str]]], name: str, symbol: str | None) -> ParsedDrop:
    columns = {c: i for i, c in enumerate(header)}
    date_column = "date" if "date" in columns else next((a for a in DATE_ALIASES if a in columns), None)
    missing = [c for c in GENERIC_COLUMNS if c not in columns and not (c == "date" and date_column)]
    duplicated = sorted({c for c in header if header.count(c) > 1 and c})
    problems = []
    if missing:
        problems.append(f"row 1: the generic format needs column(s) {', '.join(missing)} "
                        f"(header {','.join(header)})")
    if duplicated:
        problems.append(f"row 1: column(s) {', '.join(duplicated)} appear more than once")
    if problems:
        raise DropRejected(name, problems)
    wanted = {"symbol", date_column, "open", "high", "low", "close", "volume"}
    ignored = [c for c in header if c not in wanted]
    only = (symbol or "").strip().upper() or None
    bars: dict[str, list[Bar]] = {}
    for number, row in body:
        values = {c: (row[i] if i < len(row) else "") for c, i in columns.items()}
        values["timestamp"] = values.get(date_column, "")
        ticker = values["symbol"].strip().upper()
        if len(row) != len(header):
            problems.append(f"row {number}: {len(row)} fields, the header has {len(header)}")
            continue
        if not ticker:
            problems.append(f"row {number}, column symbol: missing")
            continue
        if not SYMBOL_RE.match(ticker):
            problems.append(f"row {number}, column symbol: {values['symbol']!r} is not a ticker")
            continue
        if only and ticker != only:
            problems.append(f"row {number}, column symbol: {ticker}, but --symbol says {only}")
            continue
        bar = _bar(number, values, len(row), len(header), date_column, problems)
        bars.setdefault(ticker, []).append(bar)
    if problems:
        raise DropRejected(name, problems)
    return ParsedDrop(name, GENERIC, "", bars, ignored)


def _bar(number: int, values: dict[str, str], fields: int, expected: int, date_column: str,
         problems: list[str]) -> Bar:
    """One row's bar; each malformed field is added to `problems` as 'row N, column C: ...'."""
    if fields != expected:
        problems.append(f"row {number}: {fields} fields, the header has {expected}")
    clean = {c: (values.get(c) or "").strip() for c in AV_HEADER}
    checks = (("timestamp", _DATE_RE, "is not a date (YYYY-MM-DD)"),
              ("open", _NUMBER_RE, "is not a number"), ("high", _NUMBER_RE, "is not a number"),
              ("low", _NUMBER_RE, "is not a number"), ("close", _NUMBER_RE, "is not a number"),
              ("volume", _WHOLE_RE, "is not a whole number"))
    if fields == expected:
        for column, pattern, what in checks:
            shown = date_column if column == "timestamp" else column
            if not clean[column]:
                problems.append(f"row {number}, column {shown}: missing")
            elif not pattern.match(clean[column]):
                problems.append(f"row {number}, column {shown}: {clean[column]!r} {what}")
    return Bar(clean["timestamp"], clean["open"], clean["high"], clean["low"], clean["close"], clean["volume"])
