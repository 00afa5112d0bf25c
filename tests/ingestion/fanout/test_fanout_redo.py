"""The end of a fan-out run is redone when the one who claimed it could not finish: the WAP
start failed (the claim is given back at once), or the claimer died after its create-only claim
(the claim goes stale: locally when its process is dead, anywhere once it is older than the
claim's lease). Two drain checks never both start the WAP."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.adapters.local.token_bucket_sqlite import SqliteTokenBucket, bucket_path
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.token_bucket import Limits
from ingestion.fanout import records
from ingestion.fanout.drain import CLAIM_TTL, finish_if_drained
from ingestion.fanout.planner import plan_day
from ingestion.fanout.worker import Worker, handle
from ingestion.sources import build_source
from ingestion.state import load_state

RUN = "20261120T220000Z-fan"
AS_OF = dt.date(2026, 11, 20)
T0 = dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.timezone.utc)
REPO = Path(__file__).resolve().parents[3]


def _drained_day(lake: Path, symbols=("AAA", "BBB"), calls_per_day=None) -> tuple[LocalStorage, SqliteQueue]:
    """A planned day whose every symbol a real worker fetched (synthetic source) or carried (the
    key's daily calls spent) and settled."""
    storage = LocalStorage(lake)
    queue = SqliteQueue(queue_path(lake, "ingest"), "ingest")
    plan_day(storage, queue, run_id=RUN, as_of=AS_OF, source="synthetic", symbols=list(symbols))
    source = build_source("synthetic", seed=3)
    worker = Worker(storage, queue, queue.dead_letter_queue(),
                    SqliteTokenBucket(bucket_path(lake), "synthetic", Limits(None, calls_per_day)),
                    source_for=lambda name: source)
    while (got := queue.receive(1)):
        handle(worker, got[0])
    assert records.settled_symbols(storage, RUN) == set(symbols)
    return storage, queue


def _finish(storage, queue, start_wap, *, at=T0):
    return finish_if_drained(storage, queue, RUN, start_wap=start_wap, calls_by_day={"2026-11-20": 2},
                             stages=["ingest", "crawl"], settings={"source": "synthetic"}, now=lambda: at)


class _Refused(RuntimeError):
    pass


def test_a_wap_start_that_fails_is_redone_by_the_next_drain_check(tmp_path):
    storage, queue = _drained_day(tmp_path / "lake")
    starts = []

    def refuse(finished):
        raise _Refused("StartWorkflowRun: InternalServiceException")

    with pytest.raises(_Refused):
        _finish(storage, queue, refuse)
    assert not storage.exists(records.started_key(RUN))  # not handed over: nothing may say it was

    finished = _finish(storage, queue, starts.append, at=T0 + dt.timedelta(minutes=5))
    assert finished is not None and starts == [finished]
    assert finished.counts["symbols_fetched"] == 2
    assert storage.exists(records.started_key(RUN))
    # a third check, and a worker's, find the run handed over and start nothing more
    assert _finish(storage, queue, starts.append, at=T0 + dt.timedelta(minutes=10)) is None
    assert len(starts) == 1


def test_the_redo_leaves_the_state_and_run_log_as_one_finish_would(tmp_path):
    storage, queue = _drained_day(tmp_path / "lake", calls_per_day=1)  # BBB is carried to tomorrow
    storage_once, queue_once = _drained_day(tmp_path / "once", calls_per_day=1)
    _finish(storage_once, queue_once, lambda f: None)

    def refuse(finished):
        raise _Refused("busy")

    for _ in range(2):
        with pytest.raises(_Refused):
            _finish(storage, queue, refuse)
    _finish(storage, queue, lambda f: None)
    assert [(c.symbol, c.runs) for c in load_state(storage).carried] == [("BBB", 1)]
    assert load_state(storage).to_dict() == load_state(storage_once).to_dict()
    ingest = RunLog.load(storage, RUN).doc["stages"]["ingest"]
    assert ingest["counts"] == RunLog.load(storage_once, RUN).doc["stages"]["ingest"]["counts"]


def test_a_claim_by_another_live_checker_is_left_alone_until_its_lease_ends(tmp_path):
    """On AWS a claimer that timed out leaves its claim: the next drain check within the lease
    must not start a second WAP; the one after the lease redoes the finish."""
    storage, queue = _drained_day(tmp_path / "lake")
    assert records.create(storage, records.claim_key(RUN, 1), {
        "run_id": RUN, "host": "169.254.1.1-another-sandbox", "pid": 8, "started_at": T0.isoformat()})
    starts = []
    assert _finish(storage, queue, starts.append, at=T0 + CLAIM_TTL - dt.timedelta(seconds=1)) is None
    assert starts == []
    finished = _finish(storage, queue, starts.append, at=T0 + CLAIM_TTL + dt.timedelta(seconds=1))
    assert starts == [finished] and finished is not None


def test_a_local_claimer_killed_after_its_claim_is_redone_at_once(tmp_path):
    """A local process SIGKILLed between the claim and the manifest: its pid is dead, so the next
    check (a second `tickerlake ingest --fan-out`) finishes the run without waiting for the lease."""
    lake = tmp_path / "lake"
    storage, queue = _drained_day(lake)
    queue.close()
    script = textwrap.dedent(f"""
        import datetime as dt
        from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
        from glue_jobs.adapters.local.storage import LocalStorage
        from ingestion.fanout.drain import finish_if_drained
        lake = {str(lake)!r}
        finish_if_drained(LocalStorage(lake), SqliteQueue(queue_path(lake, "ingest"), "ingest"), {RUN!r},
                          start_wap=lambda f: None, calls_by_day={{}}, stages=["ingest"], settings={{}})
    """)
    env = {**os.environ, "TICKERLAKE_FAILPOINT": "fanout.after_claim", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert "failpoint fanout.after_claim" in done.stderr
    assert not storage.exists(records.started_key(RUN))

    starts = []
    now = dt.datetime.now(dt.timezone.utc)
    finished = _finish(storage, SqliteQueue(queue_path(lake, "ingest"), "ingest"), starts.append, at=now)
    assert starts == [finished] and finished is not None
    assert storage.exists(records.started_key(RUN))


def test_a_malformed_message_is_named_in_the_run_log_of_the_run_that_finishes_next(tmp_path):
    """A body that is not a task goes to the dead-letter queue; the run log names it (once: the
    next day's run does not name it again)."""
    lake = tmp_path / "lake"
    storage = LocalStorage(lake)
    queue = SqliteQueue(queue_path(lake, "ingest"), "ingest")
    plan_day(storage, queue, run_id=RUN, as_of=AS_OF, source="synthetic", symbols=["AAA"])
    queue.send('{"kind": "fanout_symbol", "symbol": "BBB"}')  # no run id, no date
    source = build_source("synthetic", seed=3)
    worker = Worker(storage, queue, queue.dead_letter_queue(),
                    SqliteTokenBucket(bucket_path(lake), "synthetic", Limits(None, None)),
                    source_for=lambda name: source)
    handled = [handle(worker, m) for m in iter(lambda: queue.receive(1), []) for m in m]
    assert sorted(h.action for h in handled) == ["dead_lettered", "deleted"]
    bad = next(h for h in handled if h.action == "dead_lettered")

    finished = _finish(storage, queue, lambda f: None)
    assert finished.counts["messages_malformed"] == 1
    ingest = RunLog.load(storage, RUN).doc["stages"]["ingest"]
    named = [p for p in ingest["details"]["problems"] if bad.message_id in p]
    assert len(named) == 1 and "without run_id, as_of, source" in named[0] and "dead-letter" in named[0]

    tomorrow = "20261123T220000Z-fan"
    plan_day(storage, queue, run_id=tomorrow, as_of=dt.date(2026, 11, 23), source="synthetic", symbols=["AAA"])
    for m in iter(lambda: queue.receive(1), []):
        handle(worker, m[0])
    later = finish_if_drained(storage, queue, tomorrow, start_wap=lambda f: None, calls_by_day={}, stages=["ingest"],
                              settings={}, now=lambda: T0 + dt.timedelta(days=3))
    assert later.counts["messages_malformed"] == 0


def test_the_scheduled_drain_check_looks_at_every_recent_run_not_handed_to_the_wap(tmp_path):
    """The stack's drain check carries no run id: it must check a later run of the same day, and
    an earlier day's run whose WAP never started (not only the newest day's first run)."""
    from workflows.entry.fanout_worker import _runs_to_check

    storage, queue = _drained_day(tmp_path / "lake")
    assert _runs_to_check(storage) == [RUN]
    _finish(storage, queue, lambda f: None)
    assert _runs_to_check(storage) == []
    later, sent = plan_day(storage, queue, run_id="20261120T230000Z-later", as_of=AS_OF, source="synthetic",
                           symbols=["AAA", "CCC"])
    assert (later.run_id, later.symbols, sent) == ("20261120T230000Z-later", ("CCC",), 1)
    assert records.day_runs(storage, AS_OF.isoformat()) == [RUN, later.run_id]
    next_day, _ = plan_day(storage, queue, run_id="20261123T220000Z-next", as_of=dt.date(2026, 11, 23),
                           source="synthetic", symbols=["AAA"])
    assert _runs_to_check(storage) == [later.run_id, next_day.run_id]
