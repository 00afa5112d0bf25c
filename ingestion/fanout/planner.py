"""The fan-out planner: the day's symbols (those carried from earlier runs first) onto the
ingestion queue, one message each, under one run id for the day.

Retried for the same day (a Lambda retry, a second `tickerlake ingest --fan-out`), it reuses the
day's run and enqueues again: a worker skips a symbol that is already settled, so a duplicate
costs a queue message, never a call.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from glue_jobs.ports.queue import Queue
from glue_jobs.ports.storage import Storage
from ingestion.fanout import records
from ingestion.fanout.messages import SymbolTask, encode
from ingestion.state import load_state, plan_symbols

log = logging.getLogger(__name__)


def plan_day(storage: Storage, queue: Queue, *, run_id: str, as_of: dt.date, source: str,
             symbols: Iterable[str], start: dt.date | None = None) -> tuple[records.Plan, int]:
    """Plan (or re-plan) the day of `as_of`; returns the plan and how many messages were sent.
    `run_id` is used only when the day has no run yet."""
    day = as_of.isoformat()
    if records.create(storage, records.day_key(day), {"run_id": run_id, "as_of": day}):
        state = load_state(storage)
        carried = [s for s in state.carried_symbols()]
        plan = records.Plan(run_id, as_of, source, tuple(plan_symbols(state, symbols)),
                            tuple(s for s in carried), start)
        records.create(storage, records.plan_key(run_id), plan.to_dict())
    else:
        existing = records.read_json(storage, records.day_key(day)) or {}
        run_id = existing.get("run_id") or run_id
        try:
            plan = records.load_plan(storage, run_id)
        except LookupError:  # the day marker was written and the planner died before the plan
            state = load_state(storage)
            plan = records.Plan(run_id, as_of, source, tuple(plan_symbols(state, symbols)),
                                tuple(state.carried_symbols()), start)
            records.create(storage, records.plan_key(run_id), plan.to_dict())
        log.info("fan-out run %s already planned for %s: enqueueing its unsettled symbols again", run_id, day)
    if storage.exists(records.started_key(plan.run_id)):
        return plan, 0  # drained and handed to the WAP already: nothing left to do
    done = records.settled_symbols(storage, plan.run_id)
    sent = 0
    for symbol in plan.symbols:
        if symbol in done:
            continue
        queue.send(encode(SymbolTask(plan.run_id, plan.as_of, symbol, plan.source, plan.start)))
        sent += 1
    log.info("fan-out run %s: %d of %d symbols enqueued (%d carried from earlier runs)", plan.run_id, sent,
             len(plan.symbols), len(plan.carried))
    return plan, sent
