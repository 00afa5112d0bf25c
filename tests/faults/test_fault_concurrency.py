"""Two runs on one lake at once: one holds the lock, the other exits at once naming it; a
lock left by a dead process is taken over, by one contender only, also on S3."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.layout import LOCK_KEY
from glue_jobs.lake.lock import Holder, LakeLock
from tests.faults import lakes

HOLD_SECONDS = 5


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _plant_lock(storage, holder: Holder) -> bytes:
    body = json.dumps(holder.__dict__).encode()
    storage.put_bytes(LOCK_KEY, body)
    return body


def test_two_runs_started_together_one_runs_the_other_exits_at_once_naming_it(fault_lakes, tmp_path):
    lake = fault_lakes.copy_base(tmp_path / "lake")
    # Whoever wins the lock holds it a few seconds before ingesting, so the race is real.
    env = lakes.clean_env(TICKERLAKE_FAILPOINT="runner.before_ingest", TICKERLAKE_FAILPOINT_ACTION=f"sleep:{HOLD_SECONDS}")
    started = time.monotonic()
    procs = [lakes.start_process(lakes.run_argv(lake), env=env) for _ in range(2)]
    ended: dict[int, float] = {}
    holder_at_exit: dict[int, object] = {}

    def wait(i: int) -> None:
        procs[i].wait(timeout=120)
        ended[i] = time.monotonic() - started
        holder_at_exit[i] = lakes.lock_holder(lake)  # who held the lake when this one was done

    waiters = [threading.Thread(target=wait, args=(i,)) for i in range(2)]
    for w in waiters:
        w.start()
    # While the winner holds the lake, a reader sees prod as it was.
    while lakes.lock_holder(lake) is None and time.monotonic() - started < 30:
        time.sleep(0.05)
    assert lakes.read_prod(lake).prices.full == fault_lakes.before.prices.full
    for w in waiters:
        w.join()
    outputs = [p.communicate() for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 5], outputs  # 5: the lock is held (LockHeld)
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)  # indices of the two processes
    winner_id = lakes.run_id_from(outputs[winner][1])
    loser_id = lakes.run_id_from(outputs[loser][1])
    loser_err = outputs[loser][1]

    assert f"is locked by run {winner_id} (pid {procs[winner].pid} on {socket.gethostname()}, since " in loser_err
    # it gave up at once, not after waiting for the holder: the winner still held the lake when
    # the loser was done (order and outcome, not wall time: the machine may be loaded)
    assert ended[loser] < ended[winner], ended
    assert holder_at_exit[loser] is not None and winner_id in str(holder_at_exit[loser]), holder_at_exit
    assert not (lake / "runs" / f"{loser_id}.json").exists(), "a refused run leaves no run log saying it runs"
    assert lakes.read_prod(lake).prices.business == fault_lakes.after.prices.business
    assert lakes.lock_holder(lake) is None
    lakes.record_matrix_row("concurrency", {
        "order": 0, "fault": "two `tickerlake run` on one lake at once",
        "what happened": f"one ran (exit 0, prod = the clean result); the other exited 5 after "
                         f"{ended[loser]:.1f}s naming run, pid and host of the holder, and left no run log",
    })


def test_a_dead_runs_lock_is_taken_over_by_exactly_one_of_many_contenders(tmp_path):
    storage = LocalStorage(tmp_path)
    dead = Holder("crashed", socket.gethostname(), _dead_pid(), dt.datetime.now(dt.timezone.utc).isoformat())
    _plant_lock(storage, dead)
    winners, refused = [], []
    gate = threading.Barrier(8)

    def contend(n: int) -> None:
        lock = LakeLock(storage, f"run-{n}")
        gate.wait()
        try:
            lock.acquire()
            winners.append(lock)
        except LockHeld as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1, (len(winners), refused)
    # (the winner may be one that found the lock already removed by the marker's holder)
    assert all("locked by run run-" in r or "another run took it first" in r for r in refused), refused
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == winners[0].holder.run_id
    assert storage.list_keys("locks/") == [LOCK_KEY], "takeover markers are cleaned up"


class _Interleaved:
    """Storage that lets another run act right after this one has read the lock: the slow
    contender of a takeover race, made deterministic."""

    def __init__(self, inner, between):
        self.inner, self.between, self.root = inner, between, inner.root
        self.fired = False

    def get_bytes(self, key):
        data = self.inner.get_bytes(key)
        if key == LOCK_KEY and not self.fired:
            self.fired = True
            self.between()
        return data

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(params=["local", "s3"])
def lake_storage(request, tmp_path, monkeypatch):
    if request.param == "local":
        yield LocalStorage(tmp_path)
        return
    import boto3
    from moto import mock_aws

    from glue_jobs.adapters.aws.s3_storage import S3Storage

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="tickerlake-faults")
        yield S3Storage("tickerlake-faults", "lake", client=client)


def test_the_slower_of_two_takeovers_does_not_delete_the_new_lock(lake_storage):
    dead = Holder("crashed", "elsewhere", 4242, "2000-01-01T00:00:00+00:00")  # older than the TTL
    _plant_lock(lake_storage, dead)
    fast = LakeLock(lake_storage, "fast")
    slow = LakeLock(_Interleaved(lake_storage, fast.acquire), "slow")  # reads the dead lock, then fast takes over
    with pytest.raises(LockHeld, match=r"locked by run fast \(pid \d+ on "):
        slow.acquire()
    assert fast.taken_over == dead
    assert json.loads(lake_storage.get_bytes(LOCK_KEY))["run_id"] == "fast"
    fast.release()
    assert not lake_storage.exists(LOCK_KEY)


def test_a_contender_that_died_mid_takeover_does_not_block_the_lake(lake_storage):
    dead = Holder("crashed", socket.gethostname(), _dead_pid(), "2000-01-01T00:00:00+00:00")
    raw = _plant_lock(lake_storage, dead)
    import hashlib

    marker = f"{LOCK_KEY}.takeover-{hashlib.sha256(raw).hexdigest()[:16]}"
    died = Holder("taker", socket.gethostname(), _dead_pid(), dt.datetime.now(dt.timezone.utc).isoformat())
    lake_storage.put_bytes(marker, json.dumps(died.__dict__).encode())
    lock = LakeLock(lake_storage, "next").acquire()
    assert lock.taken_over == dead
    lock.release()


def test_on_s3_a_second_lock_is_refused_naming_the_holder_and_an_expired_one_is_taken_over(lake_storage):
    first = LakeLock(lake_storage, "first").acquire()
    with pytest.raises(LockHeld, match=rf"locked by run first \(pid {os.getpid()} on {socket.gethostname()}"):
        LakeLock(lake_storage, "second").acquire()
    first.release()
    # a holder on another machine cannot be checked for life: only its age frees the lake
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=7)).isoformat()
    _plant_lock(lake_storage, Holder("elsewhere", "other-host", 1, old))
    taker = LakeLock(lake_storage, "third").acquire()
    assert taker.taken_over is not None and taker.taken_over.run_id == "elsewhere"
    young = LakeLock(lake_storage, "fourth")
    with pytest.raises(LockHeld, match="locked by run third"):
        young.acquire()
    taker.release()
    lakes.record_matrix_row("concurrency", {
        "order": 1, "fault": "lock races (local file and S3 under moto)",
        "what happened": "second acquirer refused naming the holder; a dead or expired lock taken over by exactly "
                         "one of several contenders; the slower contender never deletes the new lock",
    })
