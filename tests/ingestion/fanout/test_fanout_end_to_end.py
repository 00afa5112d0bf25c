"""Fan-out ingestion end to end, in process: the planner, three worker threads sharing one
SQLite token bucket, the SQLite queue and its dead-letter queue, against the fake Alpha Vantage
(which answers a limit body whenever the key's per-minute limit is broken), all on one hand-moved
clock. Then the drain: the WAP is started exactly once, with the run's manifest and run log."""
from __future__ import annotations

import json
import threading
import time

import pytest

from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.adapters.local.token_bucket_sqlite import SqliteTokenBucket, bucket_path
from glue_jobs.lake import layout
from glue_jobs.lake import token_bucket_math as tb
from glue_jobs.lake.ingest_queue import pending_ingest_runs
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.token_bucket import Limits
from ingestion.fanout import records
from ingestion.fanout.drain import finish_if_drained
from ingestion.fanout.in_process import run_workers
from ingestion.fanout.planner import plan_day
from ingestion.fanout.worker import Worker
from ingestion.sources import build_source
from ingestion.state import load_state

PER_MINUTE = 10
GOOD = [f"S{n:02d}" for n in range(24)]


# On a hand-moved clock shared by threads, one worker's sleep would move time under another
# worker's request between its token and its arrival at the server (a latency no real request
# has). A fetch (token, request, the client's own retries) and an idle sleep therefore hold this
# lock: the queue, the bucket, the landing and the drain still run concurrently.
_CLOCK_LOCK = threading.RLock()


class _OneAtATime:
    def __init__(self, source):
        self.source, self.name = source, source.name

    def fetch(self, *args, **kwargs):
        with _CLOCK_LOCK:
            return self.source.fetch(*args, **kwargs)


def _fanout(tmp_path, clock, server, symbols, *, workers=3, run_id="20261120T220000Z-fan"):
    lake = tmp_path / "lake"
    storage = LocalStorage(lake)
    limits = Limits(PER_MINUTE, 1000)
    starts: list = []
    start_lock = threading.Lock()

    def start_wap(finished):
        with start_lock:
            starts.append(finished)

    def open_queue():
        return SqliteQueue(queue_path(lake, "ingest"), "ingest", clock=clock.now)

    def open_worker() -> Worker:
        queue = open_queue()
        source = _OneAtATime(build_source("alphavantage", env={}, api_key=server.api_key,
                                          base_url=server.base_url, sleep=clock.sleep, clock=clock.now))
        return Worker(storage, queue, queue.dead_letter_queue(),
                      SqliteTokenBucket(bucket_path(lake), "alphavantage", limits, clock=clock.now),
                      source_for=lambda name: source, sleep=clock.sleep)

    def finish(worker):
        state = worker.bucket.state()
        return finish_if_drained(storage, worker.queue, run_id, start_wap=start_wap,
                                 calls_by_day={state.day: state.used}, stages=["ingest", "crawl"],
                                 settings={"source": "alphavantage"})

    with open_queue() as queue:
        plan, sent = plan_day(storage, queue, run_id=run_id, as_of=server.as_of, source="alphavantage",
                              symbols=symbols)
    assert sent == len(plan.symbols)
    def idle(seconds):
        time.sleep(0.005)
        with _CLOCK_LOCK:
            clock.sleep(seconds)

    result = run_workers(storage, plan, open_worker=open_worker, workers=workers, finish=finish, sleep=idle)
    return storage, plan, result, starts, open_queue


def test_fan_out_lands_every_symbol_under_the_keys_limit_and_starts_the_wap_once(tmp_path, clock, fake_av):
    server = fake_av(per_minute=PER_MINUTE, invalid_symbols=["NOPE"],
                     failures={"LIMITED": ["rate_limit"], "FLAKY": ["html502"] * 40})
    symbols = ["LIMITED", *GOOD, "NOPE", "FLAKY"]
    storage, plan, result, starts, open_queue = _fanout(tmp_path, clock, server, symbols)

    assert result.stalled is None
    assert len(starts) == 1 and result.finished is starts[0]  # the WAP was started once, by one worker
    finished = starts[0]
    # the key's limit held across the workers: the only limit body is the one the server was told to send
    assert tb.grants_in_window([c.at for c in server.calls], 60.0) <= PER_MINUTE
    assert server.limit_bodies == 1
    # raw bodies land exactly as the server sent them, under the run's keys
    for symbol in [*GOOD, "LIMITED"]:
        key = layout.raw_key(plan.as_of.isoformat(), symbol, plan.run_id, "csv")
        assert storage.get_bytes(key) == server.data_body(symbol)
    assert finished.counts["symbols_fetched"] == len(GOOD) + 1
    assert finished.counts["symbols_failed"] == 1  # NOPE: not a symbol, failed for good
    # FLAKY kept failing: dead-lettered after 5 receives, named in the run log, carried to tomorrow
    assert finished.dead_lettered.keys() == {"FLAKY"}
    with open_queue() as queue:
        dead = [json.loads(d.body) for d in queue.dead_letter_queue().receive(10)]
        assert queue.depth().visible + queue.depth().in_flight == 0
    assert [d["symbol"] for d in dead] == ["FLAKY"]
    assert len(records.attempts_of(storage, plan.run_id, "FLAKY")) == 5
    ingest = RunLog.load(storage, plan.run_id).doc["stages"]["ingest"]
    assert [d["symbol"] for d in ingest["details"]["dead_lettered"]] == ["FLAKY"]
    assert any("FLAKY" in p and "dead-lettered" in p for p in ingest["details"]["problems"])
    assert "FLAKY" in load_state(storage).carried_symbols()
    # every rejected answer of every receive kept (five receives of FLAKY, each with the client's retries)
    flaky_rejected = [k for k in storage.list_keys("rejected/") if "symbol=FLAKY" in k and "/body" in k]
    assert len(flaky_rejected) == len(server.calls_for("FLAKY"))
    # the WAP sees the run exactly as a single-run ingest's
    (pending,) = [r for r in pending_ingest_runs(storage) if r.run_id == plan.run_id]
    assert {f.symbol for f in pending.fetches} == {*GOOD, "LIMITED"}


def test_a_second_planner_call_for_the_day_fetches_nothing_twice(tmp_path, clock, fake_av):
    server = fake_av(per_minute=PER_MINUTE)
    storage, plan, _, starts, open_queue = _fanout(tmp_path, clock, server, GOOD[:5], workers=2)
    calls = len(server.calls)
    with open_queue() as queue:
        again, sent = plan_day(storage, queue, run_id="20261120T230000Z-other", as_of=server.as_of,
                               source="alphavantage", symbols=GOOD[:5])
    assert (again.run_id, sent) == (plan.run_id, 0)
    assert len(server.calls) == calls and len(starts) == 1


def test_carried_symbols_are_planned_first(tmp_path, clock, fake_av):
    server = fake_av(per_minute=PER_MINUTE, failures={"FLAKY": ["html502"] * 40})
    storage, plan, *_ = _fanout(tmp_path, clock, server, ["AAA", "FLAKY"], workers=1)
    with SqliteQueue(queue_path(tmp_path / "lake", "ingest"), "ingest", clock=clock.now) as queue:
        tomorrow, _ = plan_day(storage, queue, run_id="20261123T220000Z-fan", as_of=plan.as_of.replace(day=23),
                               source="alphavantage", symbols=["BBB", "AAA"])
    assert tomorrow.symbols == ("FLAKY", "BBB", "AAA") and tomorrow.carried == ("FLAKY",)


@pytest.mark.parametrize("body", ["not json", json.dumps({"kind": "other"}),
                                  json.dumps({"kind": "fanout_symbol", "run_id": "r", "as_of": "2026-13-01",
                                              "symbol": "A", "source": "synthetic"})])
def test_a_message_that_is_not_a_task_goes_to_the_dead_letter_queue_with_its_reason(tmp_path, body):
    from ingestion.fanout.worker import DEAD, handle

    lake = tmp_path / "lake"
    queue = SqliteQueue(queue_path(lake, "ingest"), "ingest")
    queue.send(body)
    worker = Worker(LocalStorage(lake), queue, queue.dead_letter_queue(),
                    SqliteTokenBucket(bucket_path(lake), "k", Limits(None, None)), source_for=lambda n: None)
    handled = handle(worker, queue.receive(1)[0])
    assert handled.action == DEAD and handled.reason
    assert [d.body for d in queue.dead_letter_queue().receive(10)] == [body]
    assert queue.depth().visible + queue.depth().in_flight == 0
