"""A GLOBAL_QUOTE answer (pure): a quote's fields, or why it is not one.

    {"Global Quote": {"01. symbol": "IBM", "02. open": "225.5400", "03. high": "226.1900",
      "04. low": "223.8900", "05. price": "225.9700", "06. volume": "9226278",
      "07. latest trading day": "2019-10-04", "08. previous close": "220.8200",
      "09. change": "5.1500", "10. change percent": "2.3322%"}}

Limit and error bodies (Note / Information / Error Message), HTML pages and broken JSON are
sorted by the daily series' classifier (classify.py), so a GLOBAL_QUOTE limit body means what a
TIME_SERIES_DAILY one means. An unknown symbol answers `{"Global Quote": {}}`. A quote is
rejected, with its reason, when a field is missing or not a number, a price is zero or
negative, the volume is negative, the symbol is not the one asked for, or its latest trading
day is not the session being produced (a stale quote from the day before).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ingestion.alphavantage import constants
from ingestion.alphavantage.classify import classify
from ingestion.alphavantage.redact import redact_text
from ingestion.source_api import DATA, EMPTY_SERIES, INVALID_SYMBOL, UNEXPECTED, Classification

FUNCTION = constants.QUOTE_FUNCTION
QUOTE_KEY = "Global Quote"
FIELDS = {  # Alpha Vantage's key -> the quote record's field
    "01. symbol": "symbol", "02. open": "open", "03. high": "high", "04. low": "low", "05. price": "price",
    "06. volume": "volume", "07. latest trading day": "latest_trading_day",
    "08. previous close": "previous_close", "09. change": "change", "10. change percent": "change_percent",
}
POSITIVE = ("price", "open", "high", "low", "previous_close")
STALE = "stale_quote"  # a latest trading day that is not the session's
BAD_VALUE = "bad_value"  # a zero or negative price, a negative volume, a field that is no number


@dataclass(frozen=True)
class QuoteFields:
    """A quote's values as Alpha Vantage sent them, typed (prices exact)."""
    symbol: str
    price: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int
    previous_close: Decimal
    change: Decimal
    change_percent: Decimal  # "2.3322%" -> 2.3322
    latest_trading_day: str


@dataclass(frozen=True)
class QuoteAnswer:
    """Either `fields` (a usable quote) or `problem` (what the body is, with a redacted reason)."""
    fields: QuoteFields | None
    problem: Classification | None

    @property
    def ok(self) -> bool:
        return self.fields is not None


def parse_quote(body: bytes, *, symbol: str, session_day: dt.date | None, status: int = 200,
                content_type: str = "", secrets: Iterable[object] = ()) -> QuoteAnswer:
    """What one GLOBAL_QUOTE answer for `symbol` is. `session_day` is the session being produced
    (None: do not check the latest trading day)."""
    secrets = tuple(secrets)
    doc = _json_object(body) if status < 400 else None
    if doc is None or QUOTE_KEY not in doc:
        problem = classify(body, status, content_type, requested_datatype=None, secrets=secrets)
        if problem.kind == UNEXPECTED and doc is not None:
            keys = ", ".join(sorted(map(str, doc))) or "none"
            problem = Classification(UNEXPECTED, False, f"JSON body without {QUOTE_KEY!r} or a message (keys: {keys})",
                                     "json")
        return QuoteAnswer(None, problem)
    quote = doc[QUOTE_KEY]
    if not isinstance(quote, dict) or not quote:
        return _reject(INVALID_SYMBOL if isinstance(quote, dict) else UNEXPECTED,
                       f"{symbol}: {QUOTE_KEY!r} is empty: Alpha Vantage knows no such symbol"
                       if isinstance(quote, dict) else f"{symbol}: {QUOTE_KEY!r} is not an object", secrets)
    missing = [key for key in FIELDS if key not in quote]
    if missing:
        return _reject(EMPTY_SERIES if len(missing) == len(FIELDS) else UNEXPECTED,
                       f"{symbol}: the quote lacks {', '.join(repr(m) for m in missing)}", secrets)
    values: dict[str, object] = {}
    for key, name in FIELDS.items():
        raw = str(quote[key]).strip()
        if name in ("symbol", "latest_trading_day"):
            values[name] = raw
            continue
        if name == "change_percent":
            raw = raw.removesuffix("%")
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return _reject(BAD_VALUE, f"{symbol}: {key!r} is not a number: {quote[key]!r}", secrets)
        if not number.is_finite():
            return _reject(BAD_VALUE, f"{symbol}: {key!r} is not a finite number: {quote[key]!r}", secrets)
        if name == "volume":
            if number != number.to_integral_value() or number < 0:
                return _reject(BAD_VALUE, f"{symbol}: volume {quote[key]!r} is not a whole number, 0 or more", secrets)
            values[name] = int(number)
        else:
            values[name] = number
    for name in POSITIVE:
        if values[name] <= 0:  # vendors have sent -1 as a sentinel
            return _reject(BAD_VALUE, f"{symbol}: {name} {values[name]} is not a positive price", secrets)
    if str(values["symbol"]).upper() != symbol.upper():
        return _reject(UNEXPECTED, f"{symbol}: the quote is for {values['symbol']!r}, not the symbol asked for", secrets)
    try:
        day = dt.date.fromisoformat(str(values["latest_trading_day"]))
    except ValueError:
        return _reject(BAD_VALUE, f"{symbol}: latest trading day {values['latest_trading_day']!r} is not a date", secrets)
    if session_day is not None and day != session_day:
        return _reject(STALE, f"{symbol}: latest trading day {day} is not today's session {session_day}: "
                              "a stale quote", secrets)
    values["symbol"] = symbol.upper()
    return QuoteAnswer(QuoteFields(**values), None)  # type: ignore[arg-type]


def _json_object(body: bytes) -> dict | None:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _reject(kind: str, message: str, secrets: tuple) -> QuoteAnswer:
    return QuoteAnswer(None, Classification(kind, False, redact_text(message, secrets)[:500], FUNCTION))


__all__ = ["DATA", "FIELDS", "QuoteAnswer", "QuoteFields", "parse_quote"]
