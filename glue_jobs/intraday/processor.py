"""The intraday processor: one handler for the Lambda (Kinesis or SQS FIFO events) and for
`tickerlake stream consume`. It takes one shard's records in order and answers how many of
them are done; the first record it could not process stops the batch there, so no later record
of the shard overtakes it (the caller retries from that record: `batchItemFailures`).

Every effect is idempotent, and they happen in an order where a crash anywhere leaves the
next attempt with nothing to undo:
  1. rejected records, one object each named by shard and sequence (a rewrite is the same bytes);
  2. the history (files named by sequence range, skipped below the shard's high-water mark);
  3. alerts, each once per rule, symbol and session (the dedupe markers of the batch alerts);
  4. recent quotes (create-only items), then each symbol's current quote (moves only forward).
The caller checkpoints after the handler returns; a crash before that replays the batch and
every step above finds its work done."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from glue_jobs.intraday import alert_rules
from glue_jobs.intraday import history as history_file
from glue_jobs.intraday import screen as screening
from glue_jobs.intraday.enrich import Enriched, enrich
from glue_jobs.intraday.history import HistoryWriter, arrival_day
from glue_jobs.intraday.screen import Rejected, screen
from glue_jobs.lake import failpoints
from glue_jobs.lake.quote_record import QuoteRecord
from glue_jobs.ports.notifier import Alert, Notifier
from glue_jobs.ports.serving import CurrentQuote, QuotesTable
from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import StreamRecord

log = logging.getLogger("tickerlake.intraday")

REJECTED_PREFIX = "stream/rejected/"


class SentLedger(Protocol):
    """Which alerts went out already (glue_jobs.after.alerts.sent, bound to the lake's storage)."""

    def unsent(self, alerts: list[Alert]) -> list[Alert]: ...

    def mark_sent(self, alerts: list[Alert]) -> None: ...


@dataclass(frozen=True)
class ProcessorSettings:
    window: int = 20  # quotes in the moving average
    ttl_seconds: int = 2 * 24 * 3600  # how long served quotes live after their event time
    alert_limit: int = 10  # alerts sent one by one per batch; the rest in one summary


@dataclass
class BatchResult:
    processed: int = 0  # records done, from the first (the caller checkpoints the last of them)
    failed: StreamRecord | None = None  # the first record not done
    error: str | None = None
    accepted: int = 0
    rejected: int = 0
    history_rows: int = 0
    written: int = 0  # serving items written (recent + current)
    stale: int = 0  # serving items a replay found written already
    alerts_sent: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "failed"}
        out["failed_sequence"] = self.failed.sequence if self.failed else None
        return out


@dataclass
class Processor:
    storage: Storage
    quotes: QuotesTable
    notifier: Notifier
    sent: SentLedger
    thresholds: alert_rules.AlertConfig
    history: HistoryWriter | None  # None on AWS, where Firehose writes the history
    settings: ProcessorSettings = field(default_factory=ProcessorSettings)
    run_id: str = "intraday"
    clock: Callable[[], float] = time.time
    _state: dict[str, CurrentQuote | None] = field(default_factory=dict)

    def warm(self) -> None:
        """Pay the one-time costs of the first batch (the holiday calendar, the Parquet writer's
        import) now: start-up of `stream consume` and the Lambda's init, not part of a drain."""
        screening.warm(int(self.clock() * 1000))
        if self.history is not None:
            history_file.warm()

    def handle(self, records: Sequence[StreamRecord]) -> BatchResult:
        """Process one shard's records in order (see the module's docstring)."""
        result = BatchResult()
        accepted: list[tuple[StreamRecord, QuoteRecord]] = []
        rejected: list[Rejected] = []
        enriched: list[Enriched] = []
        state = dict(self._state)  # kept only if the batch's effects all succeed
        replay: dict[str, CurrentQuote] = {}
        done = 0
        for record in records:
            try:
                outcome = screen(record)
                if isinstance(outcome, Rejected):
                    rejected.append(outcome)
                else:
                    enriched.append(self._enrich(outcome, state, replay))
                    accepted.append((record, outcome))
            except Exception as exc:  # a poison record: stop here, keep what came before
                result.failed, result.error = record, f"{type(exc).__name__}: {exc}"
                log.warning("record %s of shard %s failed: %s", record.sequence, record.shard_id, result.error)
                break
            done += 1
        try:
            failpoints.hit("intraday.before_write", records[0].shard_id if records else "")
            self._keep_rejected(rejected)
            if self.history is not None:
                result.history_rows = self.history.append(accepted)
            result.alerts_sent = self._alert(enriched)
            recent = self.quotes.put_quotes([e.quote for e in enriched])
            failpoints.hit("intraday.mid_batch", records[0].shard_id if records else "")
            current = self.quotes.put_current(_newest_per_symbol(enriched, state))
        except Exception as exc:
            self._state.clear()  # reload from the table on the next attempt
            if self.history is not None:
                self.history.marks.clear()
            return BatchResult(failed=records[0] if records else None, error=f"{type(exc).__name__}: {exc}")
        self._state = state
        result.processed, result.accepted, result.rejected = done, len(accepted), len(rejected)
        result.written, result.stale = recent.written + current.written, recent.stale + current.stale
        return result

    def _enrich(self, quote: QuoteRecord, state: dict[str, CurrentQuote | None],
                replay: dict[str, CurrentQuote]) -> Enriched:
        if quote.symbol not in state:
            state[quote.symbol] = self.quotes.get_current(quote.symbol, now=int(self.clock()))
        previous = state[quote.symbol]
        options = {"window": self.settings.window, "anomaly_percent": self.thresholds.daily_move_percent,
                   "expires_at": quote.event_time_ms // 1000 + self.settings.ttl_seconds}
        if previous is not None and (quote.event_time_ms, quote.sequence) <= previous.quote.order:
            # a replayed record: the table is past it, so it is enriched against the replay's
            # own running state and its writes will find their items there already
            e = enrich(quote, replay.get(quote.symbol), **options)
            replay[quote.symbol] = e.current
            return e
        e = enrich(quote, previous, **options)
        state[quote.symbol] = e.current
        return e

    def _keep_rejected(self, rejected: list[Rejected]) -> None:
        for r in rejected:
            rec = r.record
            body = {"shard_id": rec.shard_id, "sequence": rec.sequence, "partition_key": rec.partition_key,
                    "arrival_ms": rec.arrival_ms, "reason": r.reason,
                    "data": rec.data.decode("utf-8", errors="backslashreplace")}
            self.storage.put_bytes(rejected_key(rec), json.dumps(body, sort_keys=True).encode() + b"\n")
            log.info("rejected record %s of shard %s: %s", rec.sequence, rec.shard_id, r.reason)

    def _alert(self, enriched: list[Enriched]) -> int:
        alerts = alert_rules.evaluate(enriched, self.thresholds, self.run_id)
        fresh = self.sent.unsent(alerts) if alerts else []
        if not fresh:
            return 0
        self.notifier.send(alert_rules.throttle(fresh, self.settings.alert_limit, self.run_id))
        self.sent.mark_sent(fresh)
        return len(fresh)


def rejected_key(record: StreamRecord) -> str:
    return f"{REJECTED_PREFIX}dt={arrival_day(record)}/{record.shard_id}~{record.sequence}.json"


def _newest_per_symbol(enriched: list[Enriched], state: Mapping[str, CurrentQuote | None]) -> list[CurrentQuote]:
    """Each symbol's state after the batch, if the batch moved it."""
    symbols = {e.quote.symbol for e in enriched}
    return [c for s in sorted(symbols) if (c := state.get(s)) is not None]
