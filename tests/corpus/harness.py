"""The corpus's machinery: bodies built from the synthetic series the fake Alpha Vantage serves,
sources that answer what a case scripts, and one pipeline run (ingest, crawl, WAP) on a lake,
with what a reader can then see per symbol.

Every answer goes through the real ingestion code: AlphaVantageSource (client, redaction,
classification) over either the fake HTTP server of tests/fakes or a scripted requests
session for bodies the server cannot make; then the real crawl and WAP stages in-process.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from glue_jobs.lake import layout, merge_plan
from glue_jobs.lake.errors import AuditBlocked
from glue_jobs.lake.run_log import RunLog
from glue_jobs.runtime import local_context
from ingestion.rate_limit import RatePlanner
from ingestion.run_ingest import IngestResult, ingest
from ingestion.sources import build_source
from ingestion.synthetic.source import SyntheticSource
from tests.support.clock import FakeClock
from workflows.runner import run_wap

AS_OF = dt.date(2026, 11, 20)  # a Friday; the fake server's as-of date
AFTER_CLOSE = dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.timezone.utc)  # 17:30 in New York
KEY = "CORPUSKEY-5b1d0e77a9"
HEADER = ["timestamp", "open", "high", "low", "close", "volume"]

Rows = list  # [[date, open, high, low, close, volume], ...] newest first, all text


# -- bodies --------------------------------------------------------------------------------------


def series(symbol: str) -> Rows:
    """The 100 bars (newest first) the fake server serves for the symbol, as text rows."""
    text = SyntheticSource(seed=0).csv_bytes(symbol, as_of=AS_OF).decode()
    return [row for row in csv.reader(io.StringIO(text))][1:]


def csv_bytes(rows: Rows, header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode()


def json_bytes(symbol: str, rows: Rows, *, fields: tuple[str, ...] = ("1. open", "2. high", "3. low", "4. close",
                                                                      "5. volume"),
               last_refreshed: str = AS_OF.isoformat()) -> bytes:
    doc = {
        "Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": symbol,
                      "3. Last Refreshed": last_refreshed, "4. Output Size": "Compact", "5. Time Zone": "US/Eastern"},
        "Time Series (Daily)": {r[0]: dict(zip(fields, r[1:])) for r in rows},
    }
    return (json.dumps(doc, indent=4) + "\n").encode()


def scaled(row: list[str], factor: float) -> list[str]:
    return [row[0]] + [f"{float(v) * factor:.4f}" for v in row[1:5]] + [row[5]]


# -- sources -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json"


class _Body:
    """The streamed body as urllib3 gives it to the client (read1 with decode_content)."""

    def __init__(self, data: bytes):
        self._io = io.BytesIO(data)

    def read1(self, amt: int = -1, decode_content: bool = True) -> bytes:
        return self._io.read1(amt)

    def read(self, amt: int = -1, decode_content: bool = True) -> bytes:
        return self._io.read(amt)


class _Raw:
    def __init__(self, answer: Answer, url: str):
        self.content = answer.body
        self.raw = _Body(answer.body)
        self.status_code = answer.status
        self.headers = {"Content-Type": answer.content_type}
        self.url = url

    def close(self) -> None:
        return None


class ScriptedSession:
    """A requests-like session: each symbol's scripted answers in order, then its data body.
    An Answer with status 0 is a connection that failed (a timeout)."""

    def __init__(self, answers: dict[str, list[Answer]], data: dict[str, bytes]):
        self.answers = {s: list(a) for s, a in answers.items()}
        self.data = data

    def get(self, url: str, params: dict, timeout: object, stream: bool = False) -> _Raw:
        symbol = params["symbol"]
        queue = self.answers.get(symbol)
        answer = queue.pop(0) if queue else Answer(self.data[symbol], 200, "text/csv")
        if answer.status == 0:
            raise requests.ConnectTimeout(f"timed out connecting to {url}")
        return _Raw(answer, f"{url}?{urlencode(params)}")


class RoutedSource:
    """One source per symbol (the fake HTTP server for some, a scripted session for others)."""

    name = "alphavantage"

    def __init__(self, routes: dict[str, Any], default: Any):
        self.routes, self.default = routes, default

    def fetch(self, symbol: str, **kwargs):
        return self.routes.get(symbol, self.default).fetch(symbol, **kwargs)


def alphavantage(clock: FakeClock, *, base_url: str = "http://alphavantage.test/query", session=None,
                 api_key: str = KEY):
    return build_source("alphavantage", env={}, base_url=base_url, api_key=api_key, session=session,
                        sleep=clock.sleep, clock=clock.now)


def new_clock() -> FakeClock:
    return FakeClock(AFTER_CLOSE.timestamp())


# -- a pipeline run --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one corpus lake ended with, as a reader sees it."""

    ctx: Any
    ingests: list[IngestResult]
    wap: dict[str, dict] = field(default_factory=dict)
    blocked: AuditBlocked | None = None

    @property
    def storage(self):
        return self.ctx.storage

    def query(self, sql: str) -> list[dict]:
        return self.ctx.engine.query(sql).to_pylist()

    def rejected(self, symbol: str) -> list[dict]:
        keys = [k for k in self.storage.list_keys(layout.REJECTED_PREFIX)
                if f"/symbol={symbol}/" in k and k.rsplit("/", 1)[1].startswith("reason")]
        return [json.loads(self.storage.get_bytes(k)) for k in keys]

    def problems(self) -> list[str]:
        return [p for r in self.ingests for p in r.problems]

    def record(self, symbol: str):
        for result in self.ingests:
            if symbol in result.symbols:
                return result.symbols[symbol]
        return None

    def raw_rows(self, symbol: str) -> int:
        """Data rows of the symbol's raw CSV bodies (the JSON rendering for a JSON answer)."""
        keys = [k for k in self.storage.list_keys(layout.RAW_PREFIX)
                if f"/symbol={symbol}/" in k and k.endswith(".csv")]
        return sum(len([line for line in self.storage.get_bytes(k).splitlines()[1:] if line.strip()]) for k in keys)

    def published(self, symbol: str) -> list[dict]:
        if self.ctx.catalog.get_table("stocks", "daily_prices") is None:
            return []
        return self.query(f"select cast(trade_date as varchar) as day, open, high, low, close, volume "
                          f"from stocks.daily_prices where symbol = '{symbol}' order by trade_date")

    def quarantined(self, symbol: str) -> list[dict]:
        """Rows held back for the symbol: the quarantine table, or for a blocked run the
        temporary quarantine the audit wrote (what would have gone there)."""
        table = "tmp_daily_prices_quarantine" if self.blocked else "daily_prices_quarantine"
        if self.ctx.catalog.get_table("stocks", table) is None:
            return []
        return self.query(f"select cast(trade_date as varchar) as day, raw_line, rule, reason "
                          f"from stocks.{table} where symbol = '{symbol}' order by raw_line")

    def rules(self) -> dict[str, dict]:
        details = (self.run_log()["stages"].get("audit") or {}).get("details") or {}
        return {o["rule"]: o for o in details.get("rules") or []}

    def run_log(self) -> dict:
        return json.loads(self.storage.get_bytes(layout.run_log_key(self.ctx.run_id)))

    def prod_checksum(self) -> str:
        if self.ctx.catalog.get_table("stocks", "daily_prices") is None:
            return "no table"
        return merge_plan.content_checksum(self.ctx.engine.query("select * from stocks.daily_prices"))


@dataclass
class IngestSpec:
    run_id: str
    symbols: list[str]
    source: Any
    clock: FakeClock


def run_pipeline(root, ingests: list[IngestSpec], *, wap_run_id: str, settings: dict | None = None,
                 before_wap: Callable[[Any], None] | None = None) -> Outcome:
    """Ingest runs, then one WAP (crawl .. after publish) over everything pending; a blocked
    audit is part of the outcome, not an error."""
    results = []
    ctx = local_context(root, run_id=wap_run_id, as_of=AS_OF, settings=settings)
    for spec in ingests:
        results.append(ingest(ctx.storage, run_id=spec.run_id, as_of=AS_OF, symbols=spec.symbols,
                              source=spec.source, planner=RatePlanner(None, None, 0.0),
                              sleep=spec.clock.sleep, clock=spec.clock.now))
    if before_wap:
        before_wap(ctx)
    outcome = Outcome(ctx, results)
    try:
        outcome.wap = run_wap(ctx)
    except AuditBlocked as exc:
        outcome.blocked = exc
    run_log = RunLog.load(ctx.storage, ctx.run_id)
    run_log.finish()
    run_log.save()
    return outcome
