"""The producer's loop: one call every `spacing_s`, round robin over the watchlist, each quote
put on the stream as a quote record; bounded by a record count, a duration, the session's
close or the day's quota, whichever comes first.

Call k of a session is due `k * spacing_s` after its open and asks for symbol k mod n; its
record's `sequence` is the round k div n. The schedule depends only on the session, the
watchlist and the interval, so a producer restarted in the same session (or a retried Lambda)
gives a quote the same dedup id and the stream keeps one.

A source answers a call with the quote's fields or a problem (a limit body, an error body, a
bad quote) with the body as received; problems are handed to `on_reject` (which keeps the
body and the reason) and never reach the stream. A daily-cap body ends the run.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from glue_jobs.lake.quote_record import QuoteRecord, encode
from glue_jobs.ports.stream import PUT_BATCH_LIMIT, Stream
from ingestion.alphavantage.quote import QuoteFields
from ingestion.source_api import DAILY_CAP, RATE_LIMIT, Classification

log = logging.getLogger(__name__)

STOP_RECORDS = "records"
STOP_DURATION = "duration"
STOP_CLOSE = "session closed"
STOP_QUOTA = "daily quota spent"


@dataclass(frozen=True)
class Outcome:
    fields: QuoteFields | None
    problem: Classification | None
    body: bytes = b""  # as received (a key echoed in it masked), for a rejected answer
    event_ms: int | None = None  # when the quote was taken (None: the call's due time)


class QuoteSource(Protocol):
    name: str  # the records' source: "synthetic" | "alphavantage"
    live: bool  # True: calls go out on the wall clock; False: the session is simulated

    def fetch(self, symbol: str, round_index: int) -> Outcome: ...


@dataclass
class Rejected:
    symbol: str
    round_index: int
    kind: str
    reason: str


@dataclass
class ProduceReport:
    put: int = 0
    calls: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    stopped: str = ""
    shards: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Schedule:
    symbols: tuple[str, ...]
    spacing_s: float  # between calls
    open_ms: int  # the session's open (UTC epoch ms): call 0 is due then
    close_ms: int

    def due_ms(self, k: int) -> int:
        return self.open_ms + round(k * self.spacing_s * 1000)

    def first_call_at(self, now_ms: int) -> int:
        """The first call due at or after `now_ms` (0 before the open)."""
        if now_ms <= self.open_ms or self.spacing_s <= 0:
            return 0
        k = int((now_ms - self.open_ms) // (self.spacing_s * 1000))
        return k if self.due_ms(k) >= now_ms else k + 1


def produce(schedule: Schedule, source: QuoteSource, stream: Stream, *, start: int = 0, records: int | None = None,
            duration_s: float | None = None, clock: Callable[[], float] = time.time,
            sleep: Callable[[float], None] = time.sleep, on_reject: Callable[[Rejected, bytes], None] | None = None,
            progress: Callable[[ProduceReport], None] | None = None, progress_every_s: float = 10.0) -> ProduceReport:
    """Runs calls start, start+1, ... of `schedule` until a bound; returns what it did."""
    report = ProduceReport()
    n = len(schedule.symbols)
    ends_at = clock() + duration_s if duration_s is not None else None
    pending: list[tuple[str, bytes, str | None]] = []
    next_progress = clock() + progress_every_s

    def flush() -> None:
        if pending:
            for shard, _ in stream.put_many(pending):
                report.shards.add(shard)
            report.put += len(pending)
            pending.clear()

    k = start
    while True:
        if records is not None and report.put + len(pending) >= records:
            report.stopped = STOP_RECORDS
            break
        due = schedule.due_ms(k)
        if due >= schedule.close_ms:
            report.stopped = STOP_CLOSE
            break
        if source.live:
            wait = due / 1000 - clock()
            if ends_at is not None and clock() + max(0.0, wait) >= ends_at:  # a call due at the end is the next run's
                report.stopped = STOP_DURATION
                break
            if wait > 0:
                flush()  # nothing waits in memory while the producer sleeps
                sleep(wait)
        elif ends_at is not None and clock() >= ends_at:
            report.stopped = STOP_DURATION
            break
        symbol, round_index = schedule.symbols[k % n], k // n
        outcome = source.fetch(symbol, round_index)
        report.calls += 1
        if outcome.fields is not None:
            event_ms = outcome.event_ms if outcome.event_ms is not None else due
            record = to_record(outcome.fields, source.name, round_index, event_ms)
            pending.append((record.symbol, encode(record), record.dedup_id))
            report.first_event_ms = event_ms if report.first_event_ms is None else report.first_event_ms
            report.last_event_ms = event_ms
            if source.live or len(pending) >= PUT_BATCH_LIMIT:
                flush()
        else:
            problem = outcome.problem or Classification("unexpected", False, "no quote and no reason")
            rejected = Rejected(symbol, round_index, problem.kind, problem.message)
            report.rejected.append(rejected)
            log.warning("%s round %d: %s: %s", symbol, round_index, problem.kind, problem.message)
            if on_reject is not None:
                on_reject(rejected, outcome.body)
            if problem.kind == DAILY_CAP:
                report.stopped = STOP_QUOTA
                break
            if problem.kind == RATE_LIMIT:
                log.warning("a limit body although the schedule keeps within the key's limits: another client "
                            "may share the key")
        k += 1
        if progress is not None and clock() >= next_progress:
            flush()
            progress(report)
            next_progress = clock() + progress_every_s
    flush()
    return report


def to_record(fields: QuoteFields, source: str, round_index: int, event_ms: int) -> QuoteRecord:
    return QuoteRecord(symbol=fields.symbol, event_time_ms=event_ms, source=source, sequence=round_index,
                       price=fields.price, open=fields.open, high=fields.high, low=fields.low, volume=fields.volume,
                       previous_close=fields.previous_close, change=fields.change,
                       change_percent=fields.change_percent, latest_trading_day=fields.latest_trading_day)
