"""The `quotes` table's items as plain mappings of exact text (pure): what both adapters store,
so the SQLite twin and DynamoDB hold the same attributes with the same names."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from glue_jobs.ports.serving import CurrentQuote, Quote

DECIMALS = ("price", "previous_close", "change", "change_percent", "moving_average")
INTEGERS = ("event_time_ms", "sequence", "volume", "expires_at")


def quote_attributes(quote: Quote) -> dict[str, Any]:
    """A Quote's attributes: decimals as Decimal, integers as int, the rest as text/bool."""
    out: dict[str, Any] = {"symbol": quote.symbol, "session": quote.session, "source": quote.source,
                           "anomaly": quote.anomaly}
    for name in DECIMALS:
        out[name] = getattr(quote, name)
    for name in INTEGERS:
        out[name] = int(getattr(quote, name))
    return out


def quote_from(attributes: dict[str, Any]) -> Quote:
    return Quote(
        symbol=str(attributes["symbol"]), session=str(attributes["session"]), source=str(attributes["source"]),
        anomaly=bool(attributes["anomaly"]),
        **{name: Decimal(str(attributes[name])) for name in DECIMALS},
        **{name: int(attributes[name]) for name in INTEGERS},
    )


def window_text(current: CurrentQuote) -> str:
    """The moving-average window as one text attribute (exact decimals, comma separated)."""
    return ",".join(str(p) for p in current.window)


def window_from(text: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(p) for p in text.split(",") if p)
