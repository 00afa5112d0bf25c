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
from typing import Callable

from glue_jobs.ports.queue import Queue
from glue_jobs.ports.storage import Storage
from ingestion.fanout import records
from ingestion.fanout.messages import SymbolTask, encode
from ingestion.state import IngestState, load_state, normalise_symbols, plan_symbols

log = logging.getLogger(__name__)


def plan_day(storage: Storage, queue: Queue, *, run_id: str, as_of: dt.date, source: str,
             symbols: Iterable[str], start: dt.date | None = None) -> tuple[records.Plan, int]:
    """Plan (or re-plan) the day of `as_of`; returns the plan and how many messages were sent.
    `run_id` is used only when the day needs a new run: it has none, or its newest was handed to
    the WAP and `symbols` names some no run of the day planned (those alone make the new run)."""
    day = as_of.isoformat()
    symbols = list(symbols)
    if records.create(storage, records.day_key(day), {"run_id": run_id, "as_of": day}):
        plan = _plan_of(storage, run_id, as_of, source, start, lambda state: plan_symbols(state, symbols))
    else:
        runs = records.day_runs(storage, day)
        current = runs[-1] or run_id
        plan = _plan_of(storage, current, as_of, source, start, lambda state: plan_symbols(state, symbols))
        if storage.exists(records.started_key(current)):
            later = _later_run(storage, runs, run_id=run_id, as_of=as_of, source=source, start=start,
                               symbols=symbols)
            if later is None:
                return plan, 0  # drained and handed to the WAP already: nothing left to do
            plan = later
        else:
            log.info("fan-out run %s already planned for %s: enqueueing its unsettled symbols again", current, day)
    if storage.exists(records.started_key(plan.run_id)):
        return plan, 0
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


def _plan_of(storage: Storage, run_id: str, as_of: dt.date, source: str, start: dt.date | None,
             symbols_for: Callable[[IngestState], list[str]]) -> records.Plan:
    """The run's plan; written now if the run's marker was and the planner died before the plan."""
    try:
        return records.load_plan(storage, run_id)
    except LookupError:
        pass
    state = load_state(storage)
    planned = tuple(symbols_for(state))
    carried = set(state.carried_symbols())
    plan = records.Plan(run_id, as_of, source, planned, tuple(s for s in planned if s in carried), start)
    if not records.create(storage, records.plan_key(run_id), plan.to_dict()):
        return records.load_plan(storage, run_id)  # another planner wrote it a moment ago
    return plan


def _later_run(storage: Storage, runs: list[str], *, run_id: str, as_of: dt.date, source: str,
               start: dt.date | None, symbols: list[str]) -> records.Plan | None:
    """A new run of the day for the symbols no run of the day planned, or None if there are none."""
    planned_today: set[str] = set()
    for earlier in runs:
        try:
            planned_today.update(records.load_plan(storage, earlier).symbols)
        except LookupError:
            continue
    new = [s for s in normalise_symbols(symbols) if s not in planned_today]
    if not new:
        return None
    day = as_of.isoformat()
    key = records.later_day_key(day, len(runs) + 1)
    if not records.create(storage, key, {"run_id": run_id, "as_of": day}):
        run_id = (records.read_json(storage, key) or {}).get("run_id") or run_id  # another planner's, just made
    log.info("fan-out: the day's run %s was handed to the WAP; run %s plans %d symbols no run of %s planned",
             runs[-1], run_id, len(new), day)
    return _plan_of(storage, run_id, as_of, source, start, lambda state: new)
