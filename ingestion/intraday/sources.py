"""The producer's quote sources: Alpha Vantage's GLOBAL_QUOTE on the wall clock, and the
synthetic walk on its simulated session clock."""
from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any

from ingestion.alphavantage.client import AlphaVantageClient, FetchError
from ingestion.alphavantage.quote import parse_quote
from ingestion.alphavantage.redact import redact_bytes
from ingestion.intraday.producer import Outcome
from ingestion.intraday.synthetic_quotes import SyntheticQuotes
from ingestion.rate_limit import QuotaSpent, RatePlanner
from ingestion.source_api import DAILY_CAP, RATE_LIMIT, SERVER_ERROR, TRUNCATED, Classification

BACK_OFF_S = 60.0  # after a limit body: the per-minute window's length


class SyntheticQuoteSource:
    name = "synthetic"
    live = False

    def __init__(self, walk: SyntheticQuotes):
        self.walk = walk

    def fetch(self, symbol: str, round_index: int) -> Outcome:
        return Outcome(self.walk.quote(symbol, round_index), None)


class AlphaVantageQuoteSource:
    """GLOBAL_QUOTE through the daily client (its retries, deadline, size cap and redaction),
    paced by the rate planner as a second guard behind the schedule."""

    name = "alphavantage"
    live = True

    def __init__(self, client: AlphaVantageClient, api_key: Any, planner: RatePlanner, session_day: dt.date, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._key = api_key
        self.planner = planner
        self.session_day = session_day
        self._clock = clock
        self._sleep = sleep

    def _pace(self) -> Callable[[], None]:
        wait = self.planner.wait_time(self._clock())
        if math.isinf(wait):
            raise QuotaSpent("the day's quota is spent")
        if wait > 0:
            self._sleep(wait)
        return lambda: self.planner.record(self._clock())

    def fetch(self, symbol: str, round_index: int) -> Outcome:
        try:
            response = self._client.get_quote(symbol, pace=self._pace)
        except QuotaSpent:
            return Outcome(None, Classification(DAILY_CAP, False, "the day's quota is spent (our count)", "planner"))
        except FetchError as exc:
            kept = b"".join(r.body for r in exc.responses)
            return Outcome(None, Classification(SERVER_ERROR, True, str(exc), "fetch"), kept)
        body = redact_bytes(response.body, [self._key])
        now_ms = int(self._clock() * 1000)
        if response.cut:
            return Outcome(None, Classification(TRUNCATED, True, f"{symbol}: answer cut ({response.cut}: "
                                                f"{response.cut_detail})", response.cut), body, now_ms)
        answer = parse_quote(response.body, symbol=symbol, session_day=self.session_day, status=response.status,
                             content_type=response.content_type, secrets=[self._key])
        if answer.problem is not None and answer.problem.kind == RATE_LIMIT:
            self.planner.back_off(self._clock(), BACK_OFF_S)
        if answer.problem is not None and answer.problem.kind == DAILY_CAP:
            self.planner.exhaust_day(self._clock())
        return Outcome(answer.fields, answer.problem, body, now_ms)
