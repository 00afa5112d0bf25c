"""The fan-out worker: one message = one symbol. Take a token from the shared bucket, fetch,
land what came exactly as the single-run ingest does (ingestion/landing.py, under the fan-out
run's id), then delete the message, or make it visible again after a delay, or send it to the
dead-letter queue (ingestion/fanout/retry_plan.py decides which).

A worker never waits for a token past its own deadline: when the bucket's wait plus a fetch
would not fit in the time it has left, the message goes back to the queue, visible when the
token will be there, and nothing is fetched.

One symbol is fetched by one worker at a time: before its token, a worker takes the symbol's
numbered create-only claim (ingestion/fanout/claims.py) with a lease that ends when its own time
does. A second delivery of the symbol (SQS delivers at least once; a second planner call
re-enqueues what is in flight) finds the claim live and goes back to the queue until the lease
ends; by then the symbol is settled and the delivery is dropped. A worker that gives its message
back, or fails, gives the claim back; one that dies holds it only until its lease ends.
"""
from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from glue_jobs.ports.queue import Message, Queue, QueueError
from glue_jobs.ports.storage import Storage, put_json
from glue_jobs.ports.token_bucket import DAILY_QUOTA, TokenBucket
from ingestion import source_api as kinds
from ingestion.alphavantage.redact import redact_text
from ingestion.fanout import claims, records
from ingestion.fanout.messages import BadMessage, SymbolTask, decode
from ingestion.fanout.retry_plan import (
    CARRIED,
    DEAD_LETTERED,
    FETCHED,
    RETRY,
    TRANSIENT_MAX_S,
    Step,
    accepts_wait,
    after_answer,
)
from ingestion.landing import Landing, SymbolRecord
from ingestion.rate_limit import QuotaSpent
from ingestion.source_api import Source

log = logging.getLogger(__name__)

# Rejected answers of receive n are numbered from (n - 1) * this + 1, so no receive overwrites another's.
REJECTED_PER_RECEIVE = 100
DEFAULT_FETCH_BUDGET_S = 90.0
# What a local worker receives a message for: longer than any fetch and accepted wait, as the
# stack's visibility timeout is six times the worker's timeout.
VISIBILITY_TIMEOUT_S = 900  # one fetch with the client's own retries (TICKERLAKE_FETCH_DEADLINE_S is 60)

DELETED, RETURNED, RETRYING, DEAD, SKIPPED = "deleted", "returned", "retrying", "dead_lettered", "skipped"


class NoTokenInTime(RuntimeError):
    def __init__(self, wait_s: float, reason: str):
        super().__init__(f"the next token is {wait_s:.1f} s away ({reason}): more than this worker has left")
        self.wait_s = wait_s


@dataclass
class Worker:
    storage: Storage
    queue: Queue
    dead_letters: Queue
    bucket: TokenBucket
    source_for: Callable[[str], Source]  # a source by name (the task says which)
    remaining_s: Callable[[], float] = lambda: math.inf  # time left before the invocation's timeout
    sleep: Callable[[float], None] = time.sleep
    fetch_budget_s: float = DEFAULT_FETCH_BUDGET_S
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.time  # the symbol claims' leases


@dataclass(frozen=True)
class Handled:
    message_id: str
    action: str  # DELETED | RETURNED | RETRYING | DEAD | SKIPPED
    symbol: str | None = None
    outcome: str | None = None  # FETCHED | FAILED | CARRIED | DEAD_LETTERED once settled
    delay_s: int = 0
    reason: str = ""

    @property
    def failed_for_the_queue(self) -> bool:
        """Report it as a batch item failure: the message stays on the queue."""
        return self.action in (RETURNED, RETRYING)


def handle(worker: Worker, message: Message) -> Handled:
    """Process one message to the end: the queue operations are done here."""
    try:
        task = decode(message.body)
    except BadMessage as exc:
        reason = f"message {message.message_id}: {exc}"
        log.error("%s; sent to the dead-letter queue", reason)
        _record_malformed(worker, message, str(exc))
        worker.dead_letters.send(message.body)
        worker.queue.delete(message.receipt_handle)
        return Handled(message.message_id, DEAD, reason=reason)
    storage = worker.storage
    if storage.exists(records.settled_key(task.run_id, task.symbol)) or storage.exists(records.started_key(task.run_id)):
        worker.queue.delete(message.receipt_handle)  # a duplicate, or a run already handed to the WAP
        return Handled(message.message_id, SKIPPED, task.symbol, reason="already settled")
    prefix = records.fetching_prefix(task.run_id, task.symbol)
    lease_s = min(worker.remaining_s(), VISIBILITY_TIMEOUT_S)
    taken = claims.take(storage, prefix, {
        "symbol": task.symbol, "message_id": message.message_id, "receive_count": message.receive_count,
        "until": worker.clock() + lease_s}, live=lambda doc: float(doc.get("until") or 0) > worker.clock())
    if taken.number is None:
        return _wait_for_the_other(worker, message, task, taken.holder or {})
    try:
        handled = _fetch_and_land(worker, message, task, prefix, taken.number)
    except Exception as exc:
        claims.give_back(storage, prefix, taken.number, f"{type(exc).__name__}: {exc}")
        raise
    if handled.outcome is None:  # back on the queue: whichever delivery comes next may fetch at once
        claims.give_back(storage, prefix, taken.number, handled.reason)
    return handled


def _record_malformed(worker: Worker, message: Message, reason: str) -> None:
    """Kept for the run log: the run the body names, else the next run to finish, lists it."""
    try:
        doc = json.loads(message.body)
        run_id = doc.get("run_id") if isinstance(doc, dict) and isinstance(doc.get("run_id"), str) else None
    except ValueError:
        run_id = None
    put_json(worker.storage, records.malformed_key(message.message_id), {
        "message_id": message.message_id, "reason": reason, "run_id": run_id,
        "receive_count": message.receive_count, "body": redact_text(message.body[:200])})


def _wait_for_the_other(worker: Worker, message: Message, task: SymbolTask, holder: dict) -> Handled:
    left = float(holder.get("until") or 0) - worker.clock()
    delay = int(min(TRANSIENT_MAX_S, max(1, math.ceil(left))))
    reason = (f"{task.symbol} is being fetched by another delivery (message {holder.get('message_id')}, "
              f"receive {holder.get('receive_count')}): back when its lease ends")
    _show_again_in(worker, message, delay)
    log.info("%s; in %d s", reason, delay)
    return Handled(message.message_id, RETURNED, task.symbol, delay_s=delay, reason=reason)


def _fetch_and_land(worker: Worker, message: Message, task: SymbolTask, claim_prefix: str, claim: int) -> Handled:
    source = worker.source_for(task.source)
    landing = Landing(worker.storage, run_id=task.run_id, as_of=task.as_of, source_name=source.name)
    landing.number_rejected_after(task.symbol, (message.receive_count - 1) * REJECTED_PER_RECEIVE)
    record = SymbolRecord(task.symbol)
    calls = [0]

    def pace() -> None:
        while True:
            decision = worker.bucket.acquire()
            if decision.granted:
                calls[0] += 1
                return None
            if decision.reason == DAILY_QUOTA:
                raise QuotaSpent(f"the key's daily quota is used (bucket {worker.bucket.name})")
            if not accepts_wait(decision.wait_s, worker.remaining_s(), worker.fetch_budget_s):
                raise NoTokenInTime(decision.wait_s, decision.reason)
            worker.sleep(decision.wait_s)

    try:
        result = source.fetch(task.symbol, as_of=task.as_of, start=task.start, pace=pace)
    except QuotaSpent as exc:
        record.status, record.kind, record.message = "carried", kinds.DAILY_CAP, str(exc)
        step = Step("settle", CARRIED, reason=kinds.DAILY_CAP)
        return _settle(worker, message, task, record, landing, step, calls[0])
    except NoTokenInTime as exc:
        delay = max(1, math.ceil(exc.wait_s))
        _show_again_in(worker, message, delay)
        log.info("%s: %s; back on the queue in %d s", task.symbol, exc, delay)
        return Handled(message.message_id, RETURNED, task.symbol, delay_s=delay, reason=str(exc))
    newest, _ = claims.newest(worker.storage, claim_prefix, read=False)
    if newest != claim:
        _, holder = claims.newest(worker.storage, claim_prefix)
        # this worker outlived its lease and another delivery took the symbol over: that one lands
        # it; this answer is dropped (its call is counted) so the symbol lands once
        _write_attempt(worker, message, task, record, landing, Step(RETRY, reason="superseded"), calls[0])
        return _wait_for_the_other(worker, message, task, holder or {})
    landing.land(result, record)
    if result.kind == kinds.DAILY_CAP:
        worker.bucket.exhaust_day()
    step = after_answer(result.kind, result.classification.detail, message.receive_count,
                        jitter=worker.rng.random())
    if step.back_off_s:
        worker.bucket.back_off(step.back_off_s)
    if step.action == RETRY:
        _write_attempt(worker, message, task, record, landing, step, calls[0])
        worker.queue.note_failure(message.receipt_handle, step.reason)
        _show_again_in(worker, message, step.delay_s)
        log.info("%s: %s; retried in %d s (receive %d)", task.symbol, step.reason, step.delay_s, message.receive_count)
        return Handled(message.message_id, RETRYING, task.symbol, delay_s=step.delay_s, reason=step.reason)
    record.status = {FETCHED: "fetched", DEAD_LETTERED: "carried", CARRIED: "carried"}.get(step.outcome, "failed")
    return _settle(worker, message, task, record, landing, step, calls[0])


def _show_again_in(worker: Worker, message: Message, seconds: int) -> None:
    try:
        worker.queue.change_visibility(message.receipt_handle, seconds)
    except QueueError as exc:
        # the visibility timeout passed while we worked: the message is visible (or another worker
        # holds it) already, which is what a retry wants anyway, only sooner
        log.warning("%s: could not delay message %s (%s)", message.body[:80], message.message_id, exc)


def _write_attempt(worker: Worker, message: Message, task: SymbolTask, record: SymbolRecord, landing: Landing,
                   step: Step, calls: int) -> None:
    put_json(worker.storage, records.attempt_key(task.run_id, task.symbol, message.receive_count, message.message_id), {
        "symbol": task.symbol, "receive_count": message.receive_count, "message_id": message.message_id,
        "kind": record.kind, "next": step.outcome or step.action, "reason": step.reason, "calls": calls,
        "record": asdict(record), "objects": [asdict(o) for o in landing.objects],
    })


def _settle(worker: Worker, message: Message, task: SymbolTask, record: SymbolRecord, landing: Landing,
            step: Step, calls: int) -> Handled:
    _write_attempt(worker, message, task, record, landing, step, calls)
    if step.outcome == DEAD_LETTERED:
        # the dead-letter queue first: a crash before the delete leaves a duplicate there, never a loss
        worker.dead_letters.send(json.dumps({**json.loads(message.body), "reason": step.reason}))
        log.warning("%s: %s; sent to the dead-letter queue", task.symbol, step.reason)
    records.create(worker.storage, records.settled_key(task.run_id, task.symbol), {
        "symbol": task.symbol, "outcome": step.outcome, "reason": step.reason, "kind": record.kind,
        "receive_count": message.receive_count, "record": asdict(record),
    })
    worker.queue.delete(message.receipt_handle)
    action = DEAD if step.outcome == DEAD_LETTERED else DELETED
    return Handled(message.message_id, action, task.symbol, outcome=step.outcome, reason=step.reason)
