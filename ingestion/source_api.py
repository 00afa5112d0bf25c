"""What every source of daily series implements (Source) and what one fetch gives back
(FetchResult). The sources (ingestion/alphavantage/, ingestion/synthetic/) implement it;
ingestion/sources.py chooses one by name."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

# What a body is: data, or which kind of problem (ingestion/alphavantage/classify.py decides
# for Alpha Vantage's bodies; the synthetic source answers the same way).
DATA = "data"
RATE_LIMIT = "rate_limit"  # per-minute or burst throttle: wait, then retry the same call
DAILY_CAP = "daily_cap"  # quota of the day spent: stop the run, carry the rest
PREMIUM = "premium"  # a premium-only parameter or endpoint (outputsize=full)
INVALID_SYMBOL = "invalid_symbol"
BAD_KEY = "bad_key"  # invalid, missing or demo key
HTML = "html"  # an HTML page or anything neither JSON nor CSV
TRUNCATED = "truncated"  # JSON that does not parse, CSV cut mid-row
EMPTY_SERIES = "empty_series"  # the data key is there but holds no bar
SERVER_ERROR = "server_error"  # 5xx, or no response at all
UNEXPECTED = "unexpected"  # JSON/CSV that is neither a series nor a known message
DEADLINE = "deadline"  # the answer did not arrive whole within the fetch's deadline
TOO_LARGE = "too_large"  # the answer went past the fetch's size cap (what came is kept up to the cap)

KINDS = (
    DATA, RATE_LIMIT, DAILY_CAP, PREMIUM, INVALID_SYMBOL, BAD_KEY,
    HTML, TRUNCATED, EMPTY_SERIES, SERVER_ERROR, UNEXPECTED, DEADLINE, TOO_LARGE,
)


@dataclass(frozen=True)
class Classification:
    kind: str
    retryable: bool
    message: str = ""  # redacted; for problems and reason files
    detail: str = ""  # which message key / throttle / format, for people reading a reason file

    @property
    def is_data(self) -> bool:
        return self.kind == DATA


Charge = Callable[[], None]
# Called before every outgoing request: waits until the request may go (the rate planner's
# gate; it may raise QuotaSpent). It returns a Charge (or None) that the source calls once the
# request got an answer (a status line came back): only answered requests count against the
# key's quota, so an unreachable server or a refused connection spends none of it.
Pace = Callable[[], Optional[Charge]]


@dataclass(frozen=True)
class FetchResult:
    """One response as received (body byte-exact, except a key echoed in it is masked)."""

    symbol: str
    body: bytes
    content_type: str
    status: int
    classification: Classification
    fetched_at: dt.datetime  # UTC
    datatype: str = "csv"  # what was asked for: "csv" or "json"
    attempts: int = 1  # HTTP attempts this result took (transport retries included)
    url: str = ""  # apikey masked
    redacted: bool = False  # the body held the key and was masked before anyone saw it
    earlier: tuple = field(default=())  # FetchResults of 5xx answers retried inside this fetch

    @property
    def kind(self) -> str:
        return self.classification.kind


class Source(Protocol):
    """A source may also have `prepare(symbols, *, as_of, start)`, which the ingest calls once
    with the run's symbols in fetch order before the first fetch (the synthetic source then
    computes bodies in batches); fetch must answer the same with or without it."""

    name: str

    def fetch(
        self, symbol: str, *, as_of: dt.date, start: dt.date | None = None, pace: Pace | None = None
    ) -> FetchResult:
        """One symbol's daily series: the last 100 sessions up to as_of, or everything from start.

        `pace` is called before every outgoing request (the rate planner's gate); it may raise
        QuotaSpent, which the caller handles. What it returns, if not None, is called once that
        request got an answer (see Pace).
        """
