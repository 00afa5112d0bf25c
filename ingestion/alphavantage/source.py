"""The Alpha Vantage source: the client's response, classified, with the key masked out of
the answers it can appear in (limit and error bodies, URLs, messages). A data body is kept
exactly as received: the key cannot be in it, and masking there would rewrite prices."""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any, Callable

from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage import constants
from ingestion.alphavantage.api_key import ApiKey, resolve_api_key
from ingestion.alphavantage.classify import classify
from ingestion.alphavantage.client import (
    CUT_DEADLINE,
    CUT_TOO_LARGE,
    AlphaVantageClient,
    FetchError,
    Response,
)
from ingestion.alphavantage.redact import contains_secret, redact_bytes
from ingestion.source_api import (
    DEADLINE,
    SERVER_ERROR,
    TOO_LARGE,
    TRUNCATED,
    Classification,
    FetchResult,
    Pace,
)

log = logging.getLogger(__name__)


class AlphaVantageSource:
    name = "alphavantage"

    def __init__(
        self,
        client: AlphaVantageClient,
        api_key: ApiKey,
        *,
        datatype: str = constants.DEFAULT_DATATYPE,
        clock: Callable[[], float] = time.time,
    ):
        self._client = client
        self._key = api_key
        self.datatype = datatype
        self._clock = clock

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        api_key: Any = None,
        base_url: str | None = None,
        datatype: str = constants.DEFAULT_DATATYPE,
        session: Any = None,
        secrets_client: Any = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> AlphaVantageSource:
        if api_key is None:
            key = resolve_api_key(env, secrets_client=secrets_client)
        else:
            key = api_key if isinstance(api_key, ApiKey) else ApiKey(str(api_key))
        url = base_url or (env.get(constants.ENV_BASE_URL) or "").strip() or constants.DEFAULT_BASE_URL
        deadlines, caps = fetch_limits(env)
        client = AlphaVantageClient(
            key, base_url=url, session=session, sleep=sleep or time.sleep, deadline_s=deadlines, max_bytes=caps
        )
        return cls(client, key, datatype=datatype, clock=clock)

    def fetch(
        self, symbol: str, *, as_of: dt.date, start: dt.date | None = None, pace: Pace | None = None
    ) -> FetchResult:
        """compact (last 100 sessions) for a daily run; full when a start date asks for history
        (premium keys only: a free key gets a `premium` answer)."""
        outputsize = constants.OUTPUTSIZE_FULL if start is not None else constants.OUTPUTSIZE_COMPACT
        try:
            response = self._client.get_daily(symbol, outputsize=outputsize, datatype=self.datatype, pace=pace)
        except FetchError as exc:
            earlier = tuple(self._result(symbol, r) for r in exc.responses)
            failure = Classification(SERVER_ERROR, True, str(exc), "transport" if not earlier else "5xx")
            return FetchResult(
                symbol=symbol,
                body=b"",
                content_type="",
                status=0,
                classification=failure,
                fetched_at=self._now(),
                datatype=self.datatype,
                attempts=exc.attempts,
                earlier=earlier,
            )
        return self._result(symbol, response)

    def _result(self, symbol: str, response: Response) -> FetchResult:
        body = response.body
        redacted = contains_secret(body, [self._key])
        if response.cut:
            verdict = self._cut_verdict(response)
        else:
            verdict = classify(body, response.status, response.content_type, self.datatype, secrets=[self._key])
        redacted = redacted and not verdict.is_data
        if redacted:
            body = redact_bytes(body, [self._key])
            log.warning("%s: the response echoed the API key; it is masked in what we keep", symbol)
        return FetchResult(
            symbol=symbol,
            body=body,
            content_type=response.content_type,
            status=response.status,
            classification=verdict,
            fetched_at=self._now(),
            datatype=self.datatype,
            attempts=response.attempts,
            url=response.url,
            redacted=redacted,
            earlier=tuple(self._result(symbol, r) for r in response.earlier),
        )

    def _cut_verdict(self, response: Response) -> Classification:
        size = f"{len(response.body)} bytes"
        if response.cut == CUT_DEADLINE:
            message = (f"no whole answer within the {response.cut_detail}: {size} received in "
                       f"{response.elapsed_s:.1f} s, kept; the symbol is carried to the next run")
            return Classification(DEADLINE, True, message[:500], response.cut_detail)
        if response.cut == CUT_TOO_LARGE:
            message = (f"answer larger than the {response.cut_detail}: cut at the cap, the first {size} are "
                       "kept; the symbol is carried to the next run")
            return Classification(TOO_LARGE, True, message[:500], response.cut_detail)
        message = f"connection lost after {size} of the body ({response.cut_detail})"
        return Classification(TRUNCATED, True, message[:500], "connection lost")

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), tz=dt.timezone.utc)


def fetch_limits(env: Mapping[str, str]) -> tuple[dict[str, float], dict[str, int]]:
    """The per-outputsize deadline (s) and size cap (bytes) of one fetch, from the
    TICKERLAKE_FETCH_* settings over the defaults. A bad value is a ConfigError naming it."""
    compact, full = constants.OUTPUTSIZE_COMPACT, constants.OUTPUTSIZE_FULL
    deadlines = {
        compact: _positive(env, constants.ENV_FETCH_DEADLINE_S, float, constants.DEFAULT_DEADLINE_S[compact]),
        full: _positive(env, constants.ENV_FETCH_DEADLINE_FULL_S, float, constants.DEFAULT_DEADLINE_S[full]),
    }
    caps = {
        compact: _positive(env, constants.ENV_FETCH_MAX_BYTES, int, constants.DEFAULT_MAX_BYTES[compact]),
        full: _positive(env, constants.ENV_FETCH_MAX_BYTES_FULL, int, constants.DEFAULT_MAX_BYTES[full]),
    }
    return deadlines, caps


def _positive(env: Mapping[str, str], name: str, kind: type, default: Any) -> Any:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a positive {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"{name} must be a positive finite number, got {raw!r}")
    return value
