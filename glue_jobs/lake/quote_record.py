"""An intraday quote record (pure): what the producer puts on the stream and the processor
reads, one JSON object per record. Prices travel as their shortest decimal text so that the
serving table and the history keep them exactly.

    {"symbol": "IBM", "event_time_ms": 1764606600000, "source": "synthetic", "sequence": 17,
     "price": "123.45", "open": "122.1", "high": "124", "low": "121.9", "volume": 1234567,
     "previous_close": "121.5", "change": "1.95", "change_percent": "1.6049",
     "latest_trading_day": "2026-11-30"}

`sequence` is the producer's own counter per symbol and source (not the transport's sequence
number): with the symbol and source it names a quote, so a resent record is recognised."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PRICE_FIELDS = ("price", "open", "high", "low", "previous_close", "change", "change_percent")


class QuoteRecordError(ValueError):
    """A record that cannot be read, naming the field and what is wrong."""


@dataclass(frozen=True)
class QuoteRecord:
    symbol: str
    event_time_ms: int  # UTC epoch milliseconds
    source: str  # "alphavantage" | "synthetic"
    sequence: int
    price: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int
    previous_close: Decimal
    change: Decimal
    change_percent: Decimal
    latest_trading_day: str  # ISO date

    @property
    def dedup_id(self) -> str:
        return f"{self.source}:{self.symbol}:{self.sequence}"


def encode(record: QuoteRecord) -> bytes:
    doc = {
        "symbol": record.symbol, "event_time_ms": record.event_time_ms, "source": record.source,
        "sequence": record.sequence, "volume": record.volume,
        "latest_trading_day": record.latest_trading_day,
    }
    for name in PRICE_FIELDS:
        doc[name] = _text(getattr(record, name))
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


_REQUIRED = ("symbol", "event_time_ms", "source", "sequence", "volume", "latest_trading_day", *PRICE_FIELDS)
_REQUIRED_SET = frozenset(_REQUIRED)
# a consumer decodes every record: the decoder's own decode of the UTF-8 text skips json.loads'
# detection of UTF-16/32 byte encodings, which records (UTF-8 JSON by contract) never use
_DECODER = json.JSONDecoder()


def decode(data: bytes) -> QuoteRecord:
    try:
        doc = _DECODER.decode(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise QuoteRecordError(f"not a JSON quote record: {exc}") from None
    if not isinstance(doc, dict):
        raise QuoteRecordError("not a JSON object")
    if not _REQUIRED_SET <= doc.keys():
        raise QuoteRecordError(f"missing field(s): {', '.join(n for n in _REQUIRED if n not in doc)}")
    prices = {}
    for name in PRICE_FIELDS:
        raw = doc[name]
        try:
            value = Decimal(raw if type(raw) is str else str(raw))
        except InvalidOperation:
            raise QuoteRecordError(f"{name}: not a number: {raw!r}") from None
        if not value.is_finite():
            raise QuoteRecordError(f"{name}: not a finite number: {raw!r}")
        prices[name] = value
    for name in ("event_time_ms", "sequence", "volume"):
        if type(doc[name]) is not int:  # a bool is an int to isinstance, not here
            raise QuoteRecordError(f"{name}: not an integer: {doc[name]!r}")
    return QuoteRecord(symbol=str(doc["symbol"]), event_time_ms=doc["event_time_ms"], source=str(doc["source"]),
                       sequence=doc["sequence"], volume=doc["volume"],
                       latest_trading_day=str(doc["latest_trading_day"]), **prices)


def _text(value: Decimal) -> str:
    # normalize() gives the shortest form ("124" not "124.00"); format 'f' avoids "1.2E+2"
    return format(value.normalize(), "f")
