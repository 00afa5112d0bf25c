"""The fan-out's pure rules (what a worker does after an answer, whether it may wait for a
token, the message body) and the drain's exactly-once start under racing workers."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
from glue_jobs.adapters.local.storage import LocalStorage
from ingestion import source_api as kinds
from ingestion.fanout import records
from ingestion.fanout.drain import finish_if_drained
from ingestion.fanout.messages import BadMessage, SymbolTask, decode, encode
from ingestion.fanout.retry_plan import (
    CARRIED,
    DEAD_LETTERED,
    FAILED,
    FETCHED,
    RETRY,
    accepts_wait,
    after_answer,
)


@pytest.mark.parametrize("kind, outcome", [
    (kinds.DATA, FETCHED), (kinds.INVALID_SYMBOL, FAILED), (kinds.EMPTY_SERIES, FAILED),
    (kinds.DAILY_CAP, CARRIED), (kinds.BAD_KEY, CARRIED), (kinds.PREMIUM, CARRIED),
])
def test_answers_that_settle_a_symbol(kind, outcome):
    step = after_answer(kind, "", receive_count=1)
    assert step.outcome == outcome


def test_a_per_minute_limit_answer_retries_after_the_window_and_holds_the_bucket():
    step = after_answer(kinds.RATE_LIMIT, "Note per_minute", receive_count=1)
    assert (step.action, step.delay_s, step.back_off_s) == (RETRY, 60, 60)
    burst = after_answer(kinds.RATE_LIMIT, "Information burst", receive_count=1)
    assert burst.delay_s == 5


def test_transient_failures_back_off_exponentially_then_dead_letter_on_the_fifth_receive():
    delays = [after_answer(kinds.SERVER_ERROR, "http 502", receive_count=n).delay_s for n in range(1, 5)]
    assert delays == [30, 60, 120, 240]
    last = after_answer(kinds.HTML, "", receive_count=5)
    assert last.outcome == DEAD_LETTERED and "5 receives" in last.reason
    low, high = (after_answer(kinds.HTML, "", 2, jitter=j).delay_s for j in (0.0, 0.999))
    assert (low, high) == (48, 72)


def test_a_worker_waits_for_a_token_only_when_the_fetch_still_fits_before_its_timeout():
    assert accepts_wait(30, remaining_s=130, fetch_budget_s=90)
    assert not accepts_wait(36, remaining_s=130, fetch_budget_s=90)


def test_message_round_trip_and_refusals():
    task = SymbolTask("r1", dt.date(2026, 11, 20), "BRK.B", "alphavantage", dt.date(2020, 1, 2))
    assert decode(encode(task)) == task
    for body, words in [("{", "not JSON"), ('{"kind": "fanout_symbol", "run_id": "r"}', "without as_of"),
                        ('{"kind": "fanout_symbol", "run_id": "r", "as_of": "2026-11-20", "symbol": "../x", '
                         '"source": "s"}', "no usable symbol")]:
        with pytest.raises(BadMessage, match=words):
            decode(body)


def test_racing_workers_on_a_drained_run_start_the_wap_exactly_once(tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    plan = records.Plan("r1", dt.date(2026, 11, 20), "synthetic", ("A", "B"), ())
    records.create(storage, records.plan_key("r1"), plan.to_dict())
    for symbol in plan.symbols:
        records.create(storage, records.settled_key("r1", symbol), {
            "symbol": symbol, "outcome": FETCHED, "reason": "", "kind": "data", "receive_count": 1,
            "record": {"symbol": symbol, "status": "fetched", "rows": 0}})
    starts, barrier, lock = [], threading.Barrier(8), threading.Lock()

    def worker():
        queue = SqliteQueue(queue_path(tmp_path / "lake", "ingest"), "ingest")
        barrier.wait()
        finish_if_drained(storage, queue, "r1", start_wap=lambda f: (lock.acquire(), starts.append(f), lock.release()),
                          calls_by_day={}, stages=["ingest"], settings={})
        queue.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 1


def test_a_run_with_a_symbol_still_unsettled_is_not_started(tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    plan = records.Plan("r1", dt.date(2026, 11, 20), "synthetic", ("A", "B"), ())
    records.create(storage, records.plan_key("r1"), plan.to_dict())
    records.create(storage, records.settled_key("r1", "A"), {"symbol": "A", "outcome": FETCHED, "record": {}})
    queue = SqliteQueue(queue_path(tmp_path / "lake", "ingest"), "ingest")
    started = finish_if_drained(storage, queue, "r1", start_wap=lambda f: pytest.fail("started"), calls_by_day={},
                                stages=["ingest"], settings={})
    assert started is None and not storage.exists(records.started_key("r1"))
