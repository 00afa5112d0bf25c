"""A symbol's task delivered twice at once (SQS is at-least-once; a second planner call re-enqueues
a symbol still in flight) is fetched by one worker, lands once and counts once; the other delivery
waits and is then dropped as settled. A worker that died holding a symbol does not block it for
longer than its lease."""
from __future__ import annotations

import datetime as dt

from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.adapters.local.token_bucket_sqlite import SqliteTokenBucket, bucket_path
from glue_jobs.ports.token_bucket import Limits
from ingestion.fanout import records
from ingestion.fanout.drain import finalize
from ingestion.fanout.planner import plan_day
from ingestion.fanout.worker import DELETED, RETURNED, SKIPPED, VISIBILITY_TIMEOUT_S, Worker, handle
from ingestion.sources import build_source

RUN = "20261120T220000Z-fan"
AS_OF = dt.date(2026, 11, 20)


class _Counting:
    """The synthetic source, counting calls; `during` runs inside the first fetch of a symbol, as
    a second worker would run while this one waits for the server."""

    def __init__(self, during=None):
        self.source, self.name = build_source("synthetic", seed=5), "synthetic"
        self.calls: list[str] = []
        self.during = during

    def fetch(self, symbol, **kwargs):
        self.calls.append(symbol)
        if self.during is not None:
            during, self.during = self.during, None
            during()
        return self.source.fetch(symbol, **kwargs)


def _lake(tmp_path, symbols):
    lake = tmp_path / "lake"
    storage = LocalStorage(lake)
    queue = SqliteQueue(queue_path(lake, "ingest"), "ingest")
    plan_day(storage, queue, run_id=RUN, as_of=AS_OF, source="synthetic", symbols=symbols)
    return lake, storage, queue


def _worker(lake, storage, source, *, queue=None, clock=None):
    queue = queue or SqliteQueue(queue_path(lake, "ingest"), "ingest")
    extra = {"clock": clock} if clock else {}
    return Worker(storage, queue, queue.dead_letter_queue(),
                  SqliteTokenBucket(bucket_path(lake), "synthetic", Limits(None, None)),
                  source_for=lambda name: source, **extra)


def _counts(storage):
    return finalize(storage, records.load_plan(storage, RUN), calls_by_day={},
                    now=lambda: dt.datetime.now(dt.timezone.utc)).counts


def test_a_symbol_delivered_twice_at_once_is_fetched_landed_and_counted_once(tmp_path):
    lake, storage, queue = _lake(tmp_path, ["AAA"])
    queue.send(queue.receive(1, visibility_timeout=0)[0].body)  # the planner's second call: a duplicate
    first, second = queue.receive(2, visibility_timeout=VISIBILITY_TIMEOUT_S)
    assert first.body == second.body
    seen = []
    source = _Counting(during=lambda: seen.append(handle(_worker(lake, storage, source), second)))

    assert handle(_worker(lake, storage, source), first).action == DELETED
    assert [h.action for h in seen] == [RETURNED]  # the duplicate waited instead of fetching
    assert source.calls == ["AAA"]
    # it comes back once its wait is over, finds AAA settled and is dropped
    later = SqliteQueue(queue_path(lake, "ingest"), "ingest", clock=lambda: 4_000_000_000.0)
    (back,) = later.receive(1)
    assert handle(_worker(lake, storage, source, queue=later), back).action == SKIPPED
    assert later.depth().visible + later.depth().in_flight == 0
    counts = _counts(storage)
    assert (counts["symbols_fetched"], counts["raw_objects"], counts["api_calls"]) == (1, 1, 1)


def test_a_worker_that_died_fetching_holds_its_symbol_only_until_its_lease_ends(tmp_path):
    lake, storage, queue = _lake(tmp_path, ["AAA"])
    now = [1_800_000_000.0]
    source = _Counting()
    (message,) = queue.receive(1, visibility_timeout=0)

    def die():  # a timeout ends the invocation: no handler of the worker runs
        raise SystemExit("the Lambda timed out mid-fetch")

    dying = _Counting(during=die)
    try:
        handle(_worker(lake, storage, dying, clock=lambda: now[0]), message)
    except SystemExit:
        pass
    assert dying.calls == ["AAA"] and not storage.exists(records.settled_key(RUN, "AAA"))
    (message,) = queue.receive(1, visibility_timeout=0)
    # redelivered while the dead worker's lease runs: it waits, no call
    assert handle(_worker(lake, storage, source, clock=lambda: now[0] + 10), message).action == RETURNED
    assert source.calls == []
    now[0] += VISIBILITY_TIMEOUT_S + 1
    later = SqliteQueue(queue_path(lake, "ingest"), "ingest", clock=lambda: 4_000_000_000.0)
    (back,) = later.receive(1)
    assert handle(_worker(lake, storage, source, queue=later, clock=lambda: now[0]), back).action == DELETED
    assert source.calls == ["AAA"]
    assert _counts(storage)["symbols_fetched"] == 1


def test_a_worker_that_outlived_its_lease_does_not_land_over_the_one_that_took_its_symbol(tmp_path):
    """The slow worker's answer differs (another seed): the raw body must be the one the settled
    record describes, and the symbol must count once."""
    import hashlib

    from glue_jobs.lake import layout

    lake, storage, queue = _lake(tmp_path, ["AAA"])
    now = [1_800_000_000.0]
    (slow_msg,) = queue.receive(1, visibility_timeout=0)
    (fast_msg,) = queue.receive(1, visibility_timeout=0)
    fast = _Counting()

    def lease_runs_out_and_another_takes_over():
        now[0] += VISIBILITY_TIMEOUT_S + 1
        assert handle(_worker(lake, storage, fast, clock=lambda: now[0]), fast_msg).action == DELETED

    slow = _Counting(during=lease_runs_out_and_another_takes_over)
    slow.source = build_source("synthetic", seed=6)
    assert handle(_worker(lake, storage, slow, clock=lambda: now[0]), slow_msg).action == RETURNED
    settled = records.read_json(storage, records.settled_key(RUN, "AAA"))["record"]
    body = storage.get_bytes(layout.raw_key(AS_OF.isoformat(), "AAA", RUN, "csv"))
    assert hashlib.sha256(body).hexdigest() == settled["sha256"]
    counts = _counts(storage)
    assert (counts["symbols_fetched"], counts["raw_objects"], counts["api_calls"]) == (1, 1, 2)
