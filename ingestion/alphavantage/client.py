"""HTTP only: one GET of TIME_SERIES_DAILY, retried on transport errors and 5xx.

The client does not read bodies for meaning (classify does) and does not pace calls
against the key's quota (the rate planner does, through the `pace` hook called before
every HTTP attempt; the charge it returns is called when the attempt got an answer, so
answered retries are counted and connections that never reached the server are not).

Every attempt has an overall deadline and a size cap (per outputsize), enforced while the
body streams in: the socket's timeout shrinks to what is left of the deadline before each
read, and the body is read piece by piece, never whole. A body cut by either comes back as
a Response with `cut` set and what arrived (up to the cap), so nothing received is lost.
"""
from __future__ import annotations

import datetime as dt
import http.client
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
import urllib3

from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage import constants
from ingestion.alphavantage.api_key import ApiKey
from ingestion.alphavantage.redact import guard_logger, redact_text, redact_url

log = logging.getLogger(__name__)
# requests logs through urllib3, which writes the full URL (apikey included) at DEBUG.
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")
_CHUNK = 64 * 1024
CUT_DEADLINE = "deadline"
CUT_TOO_LARGE = "too_large"
CUT_BROKEN = "broken"  # the connection failed mid-body
_READ_ERRORS = (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException, requests.RequestException)


def check_base_url(url: str) -> str:
    """`url` if it can be Alpha Vantage's endpoint (http or https with a host), else a
    ConfigError naming the setting: a typo is not a network failure worth retrying."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        shown = redact_url(url)[:200]
        raise ConfigError(
            f"{constants.ENV_BASE_URL} {shown!r} is not an http(s) URL with a host: leave it unset for "
            f"{constants.DEFAULT_BASE_URL}, or give e.g. http://127.0.0.1:8080/query"
        )
    return url


def _utc_clock(seconds_from_now: float) -> str:
    at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds_from_now)
    return at.strftime("%H:%M:%S UTC")


def _socket_of(raw: Any) -> Any:
    """The socket under a streamed response (urllib3 1.26 and 2.x), or None."""
    for path in (("_connection", "sock"), ("_fp", "fp", "raw", "_sock")):
        obj = raw
        for name in path:
            obj = getattr(obj, name, None)
            if obj is None:
                break
        if obj is not None and hasattr(obj, "settimeout"):
            return obj
    return None


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    elapsed_s: float
    url: str  # apikey masked
    attempts: int = 1
    earlier: tuple = ()  # 5xx Responses received before this one, kept so nothing received is lost
    cut: str = ""  # why the body is incomplete: deadline | too_large | broken ("" when whole)
    cut_detail: str = ""  # the limit in force or the error, for the reason file


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
        deadline_s: Mapping[str, float] | None = None,
        max_bytes: Mapping[str, int] | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        check_base_url(base_url)
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
        self.deadline_s = {**constants.DEFAULT_DEADLINE_S, **(deadline_s or {})}
        self.max_bytes = {**constants.DEFAULT_MAX_BYTES, **(max_bytes or {})}

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
        return self._get(symbol, params, outputsize, pace)

    def get_quote(self, symbol: str, *, pace: Callable[[], None] | None = None) -> Response:
        """GET one symbol's GLOBAL_QUOTE (JSON), with the same retries, deadline and cap as a
        compact daily answer; ingestion/alphavantage/quote.py reads it."""
        params = {"function": constants.QUOTE_FUNCTION, "symbol": symbol, "datatype": constants.DATATYPE_JSON,
                  "apikey": self._key.reveal()}
        return self._get(symbol, params, constants.OUTPUTSIZE_COMPACT, pace)

    def _get(self, symbol: str, params: dict, outputsize: str, pace: Callable[[], None] | None) -> Response:
        failures: list[Response] = []
        last_error = ""
        deadline_s = self.deadline_s.get(outputsize, constants.DEFAULT_DEADLINE_S[constants.OUTPUTSIZE_COMPACT])
        cap = self.max_bytes.get(outputsize, constants.DEFAULT_MAX_BYTES[constants.OUTPUTSIZE_COMPACT])
        per_read = min(self.timeout_s, deadline_s)
        for attempt in range(1, self.max_attempts + 1):
            charge = pace() if pace is not None else None
            started = self._monotonic()
            try:
                raw = self._session.get(self.base_url, params=params, timeout=(per_read, per_read), stream=True)
            except requests.RequestException as exc:
                # No answer: the request may never have reached Alpha Vantage, it is not charged.
                last_error = redact_text(f"{type(exc).__name__}: {exc}", [self._key])
                log.warning("%s: attempt %d/%d got no answer: %s", symbol, attempt, self.max_attempts, last_error)
            else:
                if charge is not None:
                    charge()  # a status line came back: Alpha Vantage counted this request
                try:
                    body, cut, cut_detail = self._read_body(raw, started, deadline_s, cap, outputsize)
                finally:
                    raw.close()
                response = Response(
                    status=raw.status_code,
                    content_type=raw.headers.get("Content-Type", ""),
                    body=body,
                    elapsed_s=self._monotonic() - started,
                    url=redact_url(raw.url or self.base_url, [self._key]),
                    attempts=attempt,
                    cut=cut,
                    cut_detail=redact_text(cut_detail, [self._key]),
                )
                if response.cut or response.status < 500:
                    return replace(response, earlier=tuple(failures)) if failures else response
                failures.append(response)
                last_error = f"HTTP {response.status}"
                log.warning("%s: attempt %d/%d got HTTP %d", symbol, attempt, self.max_attempts, response.status)
            if attempt < self.max_attempts:
                pause = self.backoff_s(attempt)
                if pause >= 3:
                    log.warning("%s: retrying in %.0f s (at %s)", symbol, pause, _utc_clock(pause))
                self._sleep(pause)
        raise FetchError(
            f"{symbol}: GET {params['function']} failed {self.max_attempts} times, last: {last_error}. "
            "The symbol is carried to the next run; if it keeps failing check the network and "
            f"{constants.ENV_BASE_URL}",
            symbol=symbol,
            attempts=self.max_attempts,
            responses=tuple(failures),
        )

    def _read_body(
        self, raw: requests.Response, started: float, deadline_s: float, cap: int, outputsize: str
    ) -> tuple[bytes, str, str]:
        """The body, read piece by piece: (bytes, cut, detail). Stops at the deadline (the
        socket's timeout is shortened to what is left before every read, so a server dripping a
        byte at a time cannot stretch it) and at the cap (the first `cap` bytes are kept)."""
        stream = raw.raw
        sock = _socket_of(stream)
        read1 = getattr(stream, "read1", None)  # urllib3 2: returns what has arrived, at once
        body = bytearray()

        def left() -> float:
            return deadline_s - (self._monotonic() - started)

        deadline_env = constants.ENV_FETCH_DEADLINE_S if outputsize != constants.OUTPUTSIZE_FULL \
            else constants.ENV_FETCH_DEADLINE_FULL_S
        too_slow = f"{deadline_s:g} s deadline for a {outputsize} answer ({deadline_env})"
        try:
            while True:
                remaining = left()
                if remaining <= 0:
                    return bytes(body), CUT_DEADLINE, too_slow
                if sock is not None:
                    try:
                        sock.settimeout(max(0.01, min(self.timeout_s, remaining)))
                    except OSError:  # urllib3 closed it: the whole body is in its buffer
                        sock = None
                if read1 is not None:
                    chunk = read1(_CHUNK, decode_content=True)
                else:  # urllib3 1.26: blocks for a whole chunk; the socket timeout still bounds each wait
                    chunk = stream.read(_CHUNK, decode_content=True)
                if not chunk:
                    return bytes(body), "", ""
                room = cap - len(body)
                if len(chunk) > room:
                    body += chunk[:room]
                    cap_env = constants.ENV_FETCH_MAX_BYTES if outputsize != constants.OUTPUTSIZE_FULL \
                        else constants.ENV_FETCH_MAX_BYTES_FULL
                    return bytes(body), CUT_TOO_LARGE, f"{cap} byte cap for a {outputsize} answer ({cap_env})"
                body += chunk
        except _READ_ERRORS as exc:
            if left() <= 0:
                return bytes(body), CUT_DEADLINE, too_slow
            return bytes(body), CUT_BROKEN, f"{type(exc).__name__}: {exc}"
