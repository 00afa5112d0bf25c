import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.layout import LOCK_KEY
from glue_jobs.lake.lock import Holder, LakeLock, is_stale

NOW = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.timezone.utc)


def test_second_run_is_refused_naming_the_holder(tmp_path):
    storage = LocalStorage(tmp_path)
    with LakeLock(storage, "run-A"):
        with pytest.raises(LockHeld, match=r"locked by run run-A \(pid \d+ on .+, since "):
            LakeLock(storage, "run-B").acquire()
    # released: the next run gets it
    with LakeLock(storage, "run-B"):
        assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "run-B"
    assert not storage.exists(LOCK_KEY)


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    storage = LocalStorage(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    held = LakeLock(storage, "crashed")
    held.holder = Holder("crashed", held.holder.host, dead_pid, NOW.isoformat())
    storage.put_bytes(LOCK_KEY, json.dumps(held.holder.__dict__).encode())
    lock = LakeLock(storage, "next").acquire()
    assert lock.taken_over is not None and lock.taken_over.run_id == "crashed"
    lock.release()


def test_release_does_not_remove_someone_elses_lock(tmp_path):
    storage = LocalStorage(tmp_path)
    mine = LakeLock(storage, "mine")
    other = Holder("other", "elsewhere", 1, dt.datetime.now(dt.timezone.utc).isoformat())
    storage.put_bytes(LOCK_KEY, json.dumps(other.__dict__).encode())
    mine.release()
    assert storage.exists(LOCK_KEY)


@pytest.mark.parametrize(
    ("holder", "stale"),
    [
        (Holder("r", "here", 10, (NOW - dt.timedelta(minutes=5)).isoformat()), False),
        (Holder("r", "here", 11, (NOW - dt.timedelta(minutes=5)).isoformat()), True),  # dead pid
        (Holder("r", "there", 11, (NOW - dt.timedelta(minutes=5)).isoformat()), False),  # other host: cannot tell
        (Holder("r", "there", 10, (NOW - dt.timedelta(hours=7)).isoformat()), True),  # older than TTL
        (Holder("r", "there", 10, "garbage"), True),
    ],
)
def test_staleness_rules(holder, stale):
    alive = {10}
    assert is_stale(holder, now=NOW, ttl=dt.timedelta(hours=6), host="here", pid_alive=lambda p: p in alive) is stale


def test_own_pid_is_alive_for_real():
    from glue_jobs.lake.lock import _pid_alive

    assert _pid_alive(os.getpid())


@pytest.mark.parametrize("garbage", [b"not json", b'{"run_id": "x"}', b"[1, 2]"])
def test_an_unreadable_lock_file_is_taken_over_and_reported_as_unknown(tmp_path, garbage):
    storage = LocalStorage(tmp_path)
    storage.put_bytes(LOCK_KEY, garbage)
    with LakeLock(storage, "r2") as lock:
        assert lock.taken_over == Holder("unknown", "unknown", -1, "")
        assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "r2"
    assert not storage.exists(LOCK_KEY)


def test_a_fresh_lock_has_taken_nothing_over(tmp_path):
    with LakeLock(LocalStorage(tmp_path), "r1") as lock:
        assert lock.taken_over is None
