"""Enrichment (pure): a screened quote and the symbol's previous state give the served quote,
the new state, and what the alert rules look at. Change and change percent are recomputed
against the previous close (the vendor's own fields are not trusted); the moving average is
over the last `window` prices of the symbol, this one included."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from glue_jobs.intraday.screen import session_of
from glue_jobs.lake.quote_record import QuoteRecord
from glue_jobs.ports.serving import CurrentQuote, Quote

_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Enriched:
    quote: Quote
    current: CurrentQuote
    previous_price: Decimal | None  # the symbol's quote before this one in the same session


@lru_cache(maxsize=16)
def _threshold(percent: float) -> Decimal:
    return Decimal(str(percent))


def percent_change(price: Decimal, previous_close: Decimal) -> Decimal:
    return ((price - previous_close) / previous_close * 100).quantize(_PLACES)


def enrich(record: QuoteRecord, previous: CurrentQuote | None, *, window: int, anomaly_percent: float,
           expires_at: int) -> Enriched:
    """`previous` is the symbol's state before this record (None: first quote seen)."""
    session = session_of(record.event_time_ms).isoformat()
    same_session = previous is not None and previous.quote.session == session
    prices: Sequence[Decimal] = previous.window if same_session and previous is not None else ()
    prices = (*prices, record.price)[-window:]
    change_percent = percent_change(record.price, record.previous_close)
    quote = Quote(
        symbol=record.symbol, session=session, event_time_ms=record.event_time_ms, source=record.source,
        sequence=record.sequence, price=record.price, previous_close=record.previous_close,
        change=record.price - record.previous_close, change_percent=change_percent,
        moving_average=(sum(prices, Decimal(0)) / len(prices)).quantize(_PLACES), volume=record.volume,
        anomaly=abs(change_percent) > _threshold(anomaly_percent), expires_at=expires_at,
    )
    return Enriched(quote, CurrentQuote(quote, tuple(prices)),
                    previous.quote.price if same_session and previous is not None else None)
