"""Which stream records the processor may enrich (pure): a record that cannot be decoded,
carries a number outside a quote's range (a price that is not positive, 1E+30, NaN or
infinity: glue_jobs.intraday.bounds), or whose latest trading day is not the NYSE session its
event time falls in is rejected with the reason, and never enriched."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from glue_jobs.intraday.bounds import out_of_range
from glue_jobs.lake import trading_calendar
from glue_jobs.lake.quote_record import QuoteRecord, QuoteRecordError, decode
from glue_jobs.ports.stream import StreamRecord


@dataclass(frozen=True)
class Rejected:
    record: StreamRecord
    reason: str


def session_of(event_time_ms: int) -> dt.date:
    """The New York calendar date of an event time (a session only if the exchange was open)."""
    return _new_york_date_of_hour(event_time_ms // 3_600_000)


@lru_cache(maxsize=4096)
def _new_york_date_of_hour(hour: int) -> dt.date:
    # New York's offset from UTC changes only on whole UTC hours, so the hour decides the date
    utc = dt.datetime.fromtimestamp(hour * 3600, tz=dt.timezone.utc)
    return utc.astimezone(trading_calendar.NEW_YORK).date()


def screen(record: StreamRecord) -> QuoteRecord | Rejected:
    """The decoded quote, or why it is rejected."""
    try:
        quote = decode(record.data)
    except QuoteRecordError as exc:
        return Rejected(record, f"unreadable record: {exc}")
    if quote.symbol != record.partition_key:
        return Rejected(record, f"symbol {quote.symbol!r} put under partition key {record.partition_key!r}")
    reason = out_of_range(quote)
    if reason is not None:
        return Rejected(record, reason)
    session, iso, open_day = _session_of_hour(quote.event_time_ms // 3_600_000)
    if not open_day:
        return Rejected(record, f"event time {quote.event_time_ms} falls on {session}, not an NYSE session")
    if quote.latest_trading_day != iso:
        return Rejected(record, f"latest trading day {quote.latest_trading_day} is not the session of its event "
                                f"time ({session}): a stale quote")
    return quote


@lru_cache(maxsize=4096)
def _session_of_hour(hour: int) -> tuple[dt.date, str, bool]:
    """The date of an hour, as text, and whether it is a session: asked once per hour, not per record."""
    day = _new_york_date_of_hour(hour)
    return day, day.isoformat(), trading_calendar.is_session(day)


def warm(now_ms: int) -> None:
    """Load the holiday calendar (the `holidays` package builds its NYSE entity on first use:
    about 0.1 s of CPU) for the session around `now_ms`, at start-up rather than in the first
    batch, where a short drain paid it as if it were per-record work."""
    _session_of_hour(now_ms // 3_600_000)
