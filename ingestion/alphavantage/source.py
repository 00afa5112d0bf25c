"""The Alpha Vantage source: the client's response, classified, with the key masked out."""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any, Callable

from ingestion.alphavantage import constants
from ingestion.alphavantage.api_key import ApiKey, resolve_api_key
from ingestion.alphavantage.classify import classify
from ingestion.alphavantage.client import AlphaVantageClient, FetchError, Response
from ingestion.alphavantage.redact import contains_secret, redact_bytes
from ingestion.source_api import SERVER_ERROR, Classification, FetchResult, Pace

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
        client = AlphaVantageClient(key, base_url=url, session=session, sleep=sleep or time.sleep)
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
        if redacted:
            body = redact_bytes(body, [self._key])
            log.warning("%s: the response echoed the API key; it is masked in what we keep", symbol)
        verdict = classify(body, response.status, response.content_type, self.datatype, secrets=[self._key])
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

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), tz=dt.timezone.utc)
