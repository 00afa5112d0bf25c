"""HTTP only: one GET of TIME_SERIES_DAILY, retried on transport errors and 5xx.

The client does not read bodies for meaning (classify does) and does not pace calls
against the key's quota (the rate planner does, through the `pace` hook called before
every HTTP attempt, so retries are counted too).
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace
from typing import Callable

import requests

from ingestion.alphavantage import constants
from ingestion.alphavantage.api_key import ApiKey
from ingestion.alphavantage.redact import guard_logger, redact_text, redact_url

log = logging.getLogger(__name__)
# requests logs through urllib3, which writes the full URL (apikey included) at DEBUG.
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    elapsed_s: float
    url: str  # apikey masked
    attempts: int = 1
    earlier: tuple = ()  # 5xx Responses received before this one, kept so nothing received is lost


class FetchError(RuntimeError):
    """Every attempt failed. The message names the symbol; `responses` are the bodies received
    on the way (5xx pages), so the caller can keep them."""

    def __init__(self, message: str, *, symbol: str, attempts: int, responses: tuple = ()):
        super().__init__(message)
        self.symbol = symbol
        self.attempts = attempts
        self.responses = responses


class AlphaVantageClient:
    def __init__(
        self,
        api_key: ApiKey,
        *,
        base_url: str = constants.DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        timeout_s: float = constants.DEFAULT_TIMEOUT_S,
        max_attempts: int = constants.DEFAULT_MAX_ATTEMPTS,
        backoff_base_s: float = constants.DEFAULT_BACKOFF_BASE_S,
        backoff_max_s: float = constants.DEFAULT_BACKOFF_MAX_S,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in _URLLIB3_LOGGERS:
            guard_logger(name)
        self._key = api_key
        self.base_url = base_url
        self._session = session or requests.Session()
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._jitter = jitter
        self._monotonic = monotonic

    def backoff_s(self, attempt: int) -> float:
        """Full-jitter exponential backoff after the given failed attempt (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return ceiling * (0.5 + 0.5 * self._jitter())

    def get_daily(
        self,
        symbol: str,
        *,
        outputsize: str = constants.OUTPUTSIZE_COMPACT,
        datatype: str = constants.DEFAULT_DATATYPE,
        pace: Callable[[], None] | None = None,
    ) -> Response:
        """GET one symbol's daily series. Raises FetchError once max_attempts transport errors
        or 5xx answers in a row are spent; any other answer is returned as received."""
        params = {
            "function": constants.FUNCTION,
            "symbol": symbol,
            "outputsize": outputsize,
            "datatype": datatype,
            "apikey": self._key.reveal(),
        }
        failures: list[Response] = []
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            if pace is not None:
                pace()
            started = self._monotonic()
            try:
                raw = self._session.get(self.base_url, params=params, timeout=self.timeout_s)
                body = raw.content
            except requests.RequestException as exc:
                last_error = redact_text(f"{type(exc).__name__}: {exc}", [self._key])
                log.warning("%s: attempt %d/%d failed: %s", symbol, attempt, self.max_attempts, last_error)
            else:
                response = Response(
                    status=raw.status_code,
                    content_type=raw.headers.get("Content-Type", ""),
                    body=body,
                    elapsed_s=self._monotonic() - started,
                    url=redact_url(raw.url or self.base_url, [self._key]),
                    attempts=attempt,
                )
                if response.status < 500:
                    return replace(response, earlier=tuple(failures)) if failures else response
                failures.append(response)
                last_error = f"HTTP {response.status}"
                log.warning("%s: attempt %d/%d got HTTP %d", symbol, attempt, self.max_attempts, response.status)
            if attempt < self.max_attempts:
                self._sleep(self.backoff_s(attempt))
        raise FetchError(
            f"{symbol}: GET {constants.FUNCTION} failed {self.max_attempts} times, last: {last_error}. "
            "The symbol is carried to the next run; if it keeps failing check the network and "
            f"{constants.ENV_BASE_URL}",
            symbol=symbol,
            attempts=self.max_attempts,
            responses=tuple(failures),
        )
