"""The end of a fan-out run: when the queue is drained (nothing visible, nothing in flight) and
every planned symbol is settled (landed, failed for good, carried or dead-lettered), one worker
claims the run with a create-only, numbered claim, writes the run's ingest manifest (the same
document the single-run ingest writes, so the WAP reads it alike), the ingest state (carried
symbols first tomorrow, the day's calls) and the run log's ingest stage naming every
dead-lettered symbol, starts the WAP, and only then writes "started". Any other worker, or the
same check later, finds "started" (or a live claim) and does nothing.

A claim whose holder could not finish is redone by the next drain check (a worker's, or the
stack's scheduled one): the claimer gives it back when the WAP start fails or the workflow is
busy, and a claimer that died (a Lambda timeout, a killed process) leaves a claim that goes
stale: at once locally when its process is gone, anywhere once it is older than its lease. The
redo writes the same manifest, state and run log again. A claimer that died between the WAP
start and "started" gets the WAP started a second time for the same run: a start is at least
once, and a second WAP of a published run publishes nothing new.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from glue_jobs.lake import failpoints, layout
from glue_jobs.lake.lock import Holder, LakeLock, _pid_alive, is_stale
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.queue import Queue
from glue_jobs.ports.storage import Storage, put_json
from ingestion.fanout import claims, records
from ingestion.fanout.retry_plan import CARRIED, DEAD_LETTERED, FAILED, FETCHED
from ingestion.landing import Landing, ObjectRecord
from ingestion.state import load_state, merge_state, save_state

log = logging.getLogger(__name__)

# A claim older than this belongs to a checker that has ended: a Lambda runs 15 minutes at most.
CLAIM_TTL = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Drain:
    visible: int
    in_flight: int
    planned: int
    settled: int

    @property
    def drained(self) -> bool:
        return self.visible + self.in_flight == 0 and self.settled >= self.planned


@dataclass
class Finished:
    run_id: str
    as_of: dt.date
    status: str  # ok | partial | nothing_fetched
    counts: dict[str, int]
    manifest_key: str
    dead_lettered: dict[str, str] = field(default_factory=dict)  # symbol -> why
    carried: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def drain_state(storage: Storage, queue: Queue, plan: records.Plan) -> Drain:
    depth = queue.depth()
    if depth.visible + depth.in_flight:
        return Drain(depth.visible, depth.in_flight, len(plan.symbols), -1)  # no need to list the outcomes
    settled = records.settled_symbols(storage, plan.run_id) & set(plan.symbols)
    return Drain(0, 0, len(plan.symbols), len(settled))


def finish_if_drained(storage: Storage, queue: Queue, run_id: str, *, start_wap: Callable[[Finished], Any],
                      calls_by_day: Mapping[str, int], stages: list[str], settings: Mapping[str, Any],
                      now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                      claim_ttl: dt.timedelta = CLAIM_TTL, take_lake_lock: bool = True) -> Finished | None:
    """Start the WAP if the run is drained and no one else has or is; the Finished run when this
    call did. An exception from `start_wap` gives the claim back (and is raised): the next
    drain check redoes the finish.

    The manifest, the ingest state and the run log are written under the lake lock, as any run
    writes them: a lake held by another run (LockHeld, raised) is finished by a later check.
    `take_lake_lock=False` is for a caller that holds the lake lock for the whole fan-out."""
    if storage.exists(records.started_key(run_id)):
        return None
    plan = records.load_plan(storage, run_id)
    if not drain_state(storage, queue, plan).drained:
        return None
    claim = _claim(storage, run_id, now(), claim_ttl)
    if claim is None:
        return None  # another checker holds a live claim, or won this one a moment ago
    try:
        with LakeLock(storage, run_id) if take_lake_lock else contextlib.nullcontext():
            failpoints.hit("fanout.after_claim", run_id)
            finished = finalize(storage, plan, calls_by_day=calls_by_day, now=now)
            _write_run_log(storage, finished, stages, settings)
        log.info("fan-out run %s drained: %s; starting the WAP", run_id, finished.counts)
        start_wap(finished)
    except BaseException as exc:
        claims.give_back(storage, records.claims_prefix(run_id), claim, f"{type(exc).__name__}: {exc}")
        raise
    records.create(storage, records.started_key(run_id), {"run_id": run_id, "at": now().isoformat(), "claim": claim})
    return finished


def _claim(storage: Storage, run_id: str, at: dt.datetime, ttl: dt.timedelta) -> int | None:
    """The next numbered claim if there is none, or the newest was given back or is stale."""
    def live(doc: dict) -> bool:
        holder = _holder(doc)
        return holder is not None and not is_stale(holder, now=at, ttl=ttl, host=socket.gethostname(),
                                                    pid_alive=_pid_alive)

    mine = {"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(), "started_at": at.isoformat()}
    return claims.take(storage, records.claims_prefix(run_id), mine, live=live).number


def _holder(doc: dict) -> Holder | None:
    try:
        return Holder(str(doc["run_id"]), str(doc["host"]), int(doc["pid"]), str(doc["started_at"]))
    except (TypeError, KeyError, ValueError):
        return None


def finalize(storage: Storage, plan: records.Plan, *, calls_by_day: Mapping[str, int],
             now: Callable[[], dt.datetime]) -> Finished:
    """The run's ingest manifest and the lake's ingest state, from what the workers recorded."""
    settled = records.settled(storage, plan.run_id)
    attempts = records.attempts(storage, plan.run_id)
    landing = Landing(storage, run_id=plan.run_id, as_of=plan.as_of, source_name=plan.source)
    landing.objects = [ObjectRecord(**o) for a in attempts for o in a.get("objects", [])]
    outcome = {s: settled.get(s, {}).get("outcome") for s in plan.symbols}
    dead = {s: settled[s].get("reason", "") for s in plan.symbols if outcome[s] == DEAD_LETTERED}
    carried = {s: (settled[s].get("kind") or "carried") for s in plan.symbols if outcome[s] == CARRIED}
    carried.update({s: DEAD_LETTERED for s in dead})
    symbols = {s: settled[s]["record"] for s in plan.symbols if s in settled}
    problems = [f"{s}: dead-lettered after {settled[s].get('receive_count')} receives ({why}); carried to the "
                "next run" for s, why in dead.items()]
    problems += [f"{s}: {settled[s]['record'].get('kind')} ({settled[s]['record'].get('message')})"
                 for s in plan.symbols if outcome[s] == FAILED]
    malformed = records.malformed_for(storage, plan.run_id)
    problems += [f"message {m.get('message_id')}: not a symbol task ({m.get('reason')}); in the dead-letter queue"
                 for _, m in malformed]
    counts = {
        "symbols_planned": len(plan.symbols),
        "symbols_fetched": sum(o == FETCHED for o in outcome.values()),
        "symbols_failed": sum(o == FAILED for o in outcome.values()),
        "symbols_carried": len(carried),
        "symbols_dead_lettered": len(dead),
        "symbols_rejected": len({o.symbol for o in landing.objects if o.role == "rejected"}),
        "raw_objects": sum(o.role in ("raw", "raw_csv_rendering") for o in landing.objects),
        "raw_rows": sum(r.get("rows", 0) for s, r in symbols.items() if outcome[s] == FETCHED),
        "rejected_objects": sum(o.role == "rejected" for o in landing.objects),
        "api_calls": sum(int(a.get("calls", 0)) for a in attempts),
        "receives": len(attempts),
        "messages_malformed": len(malformed),
    }
    fetched = counts["symbols_fetched"]
    status = "nothing_fetched" if not fetched else ("ok" if fetched == len(plan.symbols) else "partial")
    manifest_key = landing.write_manifest({
        "status": status, "mode": "fan-out", "started_at": None, "finished_at": now().isoformat(),
        "start": plan.start.isoformat() if plan.start else None, "plan": list(plan.symbols),
        "symbols": symbols, "carried": [{"symbol": s, "reason": r} for s, r in carried.items()],
        "dead_lettered": [{"symbol": s, "reason": r} for s, r in dead.items()],
        "totals": counts, "problems": problems, "stop_reason": None,
        "limits": {"calls_by_quota_day": dict(calls_by_day)},
        "malformed_messages": [{"message_id": m.get("message_id"), "reason": m.get("reason")} for _, m in malformed],
    })
    for key, doc in malformed:
        if not doc.get("run_id") and doc.get("named_by") is None:  # the next run does not name it again
            put_json(storage, key, {**doc, "named_by": plan.run_id})
    state = load_state(storage)
    if state.updated_by_run_id != plan.run_id:  # a redo of this run's finish has merged it already
        settled_now = [s for s, o in outcome.items() if o in (FETCHED, FAILED)]
        save_state(storage, merge_state(state, run_id=plan.run_id, as_of=plan.as_of, source=plan.source,
                                        carried_now=carried, settled=settled_now, calls_by_day=calls_by_day))
    return Finished(plan.run_id, plan.as_of, status, counts, manifest_key, dead, list(carried), problems)


def _write_run_log(storage: Storage, finished: Finished, stages: list[str], settings: Mapping[str, Any]) -> None:
    if storage.exists(layout.run_log_key(finished.run_id)):
        return  # a redo: the earlier claim wrote the same ingest stage, and the WAP may be continuing it
    run_log = RunLog.start(storage, run_id=finished.run_id, as_of=finished.as_of.isoformat(), stages=stages,
                           settings={**dict(settings), "ingest_mode": "fan-out"})
    run_log.stage_started("ingest")
    run_log.stage_finished("ingest", {
        **finished.counts, "status": finished.status, "manifest_key": finished.manifest_key,
        "problems": list(finished.problems), "carried": list(finished.carried),
        "dead_lettered": [{"symbol": s, "reason": r} for s, r in finished.dead_lettered.items()],
    })
    run_log.save()
