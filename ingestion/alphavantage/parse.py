"""Read TIME_SERIES_DAILY bodies (JSON or CSV) into bars of the original strings.

Nothing is coerced here: "NaN", "" or "1,234" stay as received so that the write-temp
SQL and the audit decide, and the quarantine says why. What this module does decide:
which bars a body holds, which dates they carry, whether the newest one is still forming.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from glue_jobs.lake.trading_calendar import CLOSE_TIME, NEW_YORK
from ingestion.alphavantage import constants


class ParseError(ValueError):
    """The body is not a TIME_SERIES_DAILY series (classify() says which kind it is)."""


@dataclass(frozen=True)
class Bar:
    trade_date: str  # 'YYYY-MM-DD' as received
    open: str
    high: str
    low: str
    close: str
    volume: str

    def as_row(self) -> tuple[str, str, str, str, str, str]:
        return (self.trade_date, self.open, self.high, self.low, self.close, self.volume)


@dataclass
class ParsedSeries:
    symbol: str | None
    last_refreshed: str | None  # as received: '2026-11-20' or '2026-11-20 13:14:34'
    time_zone: str | None
    bars: list[Bar]  # newest first
    columns: tuple[str, ...] = constants.CSV_COLUMNS
    datatype: str = constants.DATATYPE_CSV
    problems: list[str] = field(default_factory=list)

    @property
    def header_ok(self) -> bool:
        return tuple(self.columns) == constants.CSV_COLUMNS

    @property
    def newest_date(self) -> str | None:
        return max((b.trade_date for b in self.bars), default=None)

    @property
    def last_refreshed_date(self) -> str | None:
        return self.last_refreshed[:10] if self.last_refreshed else None

    @property
    def last_refreshed_time(self) -> dt.time | None:
        return _time_of_day(self.last_refreshed)

    @property
    def forming_date(self) -> str | None:
        """The date whose bar was still forming when Alpha Vantage refreshed the series.

        A Last Refreshed with a time of day before the close means the session was open:
        that day's bar is partial and must not be published as final.
        """
        when = self.last_refreshed_time
        if when is not None and when < CLOSE_TIME:
            return self.last_refreshed_date
        return None


def _time_of_day(stamp: str | None) -> dt.time | None:
    if not stamp or len(stamp.strip()) <= 10:
        return None
    try:
        return dt.time.fromisoformat(stamp.strip()[10:].strip())
    except ValueError:
        return None


def forming_date_at(newest_date: str | None, fetched_at: dt.datetime | None) -> str | None:
    """For bodies without a Last Refreshed (CSV): the newest bar is forming if it is dated on the
    fetch's New York day and the fetch happened before the close."""
    if not newest_date or fetched_at is None:
        return None
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=dt.timezone.utc)
    local = fetched_at.astimezone(NEW_YORK)
    if newest_date == local.date().isoformat() and local.time() < CLOSE_TIME:
        return newest_date
    return None


def parse_body(body: bytes, datatype: str | None = None, symbol: str | None = None) -> ParsedSeries:
    """Parse a data body; the datatype is sniffed when not given. Raises ParseError if it is not a series."""
    kind = datatype or sniff_datatype(body)
    if kind == constants.DATATYPE_JSON:
        return parse_json(body, symbol)
    return parse_csv(body, symbol)


def sniff_datatype(body: bytes) -> str:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return constants.DATATYPE_JSON if head in (b"{", b"[") else constants.DATATYPE_CSV


def parse_json(body: bytes, symbol: str | None = None) -> ParsedSeries:
    """Bars from a JSON body, whatever the order of its date keys, newest first."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"JSON body does not parse: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(constants.SERIES_KEY), dict):
        raise ParseError(f"JSON body has no {constants.SERIES_KEY!r} object")
    meta = doc.get(constants.META_KEY) if isinstance(doc.get(constants.META_KEY), dict) else {}
    problems: list[str] = []
    bars = []
    for date, fields in doc[constants.SERIES_KEY].items():
        if not isinstance(fields, dict):
            problems.append(f"{date}: bar is not an object")
            fields = {}
        values = [_as_text(fields.get(name)) for name in constants.BAR_FIELDS]
        missing = [name for name in constants.BAR_FIELDS if name not in fields]
        if missing and isinstance(fields, dict) and fields:
            problems.append(f"{date}: missing {', '.join(missing)}")
        bars.append(Bar(str(date), *values))
    bars.sort(key=lambda b: b.trade_date, reverse=True)
    return ParsedSeries(
        symbol=_as_text(meta.get(constants.META_SYMBOL)) or symbol,
        last_refreshed=_as_text(meta.get(constants.META_LAST_REFRESHED)) or None,
        time_zone=_as_text(meta.get(constants.META_TIME_ZONE)) or None,
        bars=bars,
        columns=constants.CSV_COLUMNS,
        datatype=constants.DATATYPE_JSON,
        problems=problems,
    )


def _as_text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def parse_csv(body: bytes, symbol: str | None = None) -> ParsedSeries:
    """Bars from a CSV body (CRLF or LF, rows kept in received order: newest first from the API).

    Short rows are padded with "" and long rows cut, each noted in .problems; a header other
    than timestamp,open,high,low,close,volume is reported in .columns, never guessed at.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"CSV body is not UTF-8: {exc}") from None
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ParseError("CSV body is empty")
    columns = tuple(cell.strip() for cell in rows[0])
    problems = []
    if columns != constants.CSV_COLUMNS:
        problems.append(f"unexpected CSV header {','.join(columns)!r}")
    width = len(constants.CSV_COLUMNS)
    bars = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            problems.append(f"line {number}: {len(row)} fields, expected {width}")
            row = (list(row) + [""] * width)[:width]
        bars.append(Bar(*row))
    return ParsedSeries(symbol, None, None, bars, columns, constants.DATATYPE_CSV, problems)


def csv_summary(body: bytes) -> tuple[int, str | None]:
    """(data rows, newest date) of a CSV data body without parsing every row: the ingest of a
    20-year backfill must not pay a full parse just to fill the manifest."""
    # A line of spaces is blank: without them a blank line is empty, and C code counts those
    # (a Python test of each of a day's 500,000 lines took 0.3 s). Line breaks stay, so the
    # two lists' lines match.
    lines = body.splitlines()
    filled = body.translate(None, b" \t\x0b\x0c").splitlines()
    count = len(filled) - filled.count(b"")
    if count < 2:
        return 0, None
    non_blank = (i for i, line in enumerate(filled) if line)
    next(non_blank)  # the header
    first_row = next(non_blank)
    last_row = next(i for i in range(len(filled) - 1, -1, -1) if filled[i])
    dates = [lines[first_row].split(b",", 1)[0], lines[last_row].split(b",", 1)[0]]
    newest = max(d.decode("utf-8", "replace").strip() for d in dates)
    return count - 1, newest


def render_csv(bars: Sequence[Bar]) -> bytes:
    """Canonical CSV bytes (the API's own layout: header, CRLF, rows in the order given)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(constants.CSV_COLUMNS)
    writer.writerows(bar.as_row() for bar in bars)
    return out.getvalue().encode("utf-8")
