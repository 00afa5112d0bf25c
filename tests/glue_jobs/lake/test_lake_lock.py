import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import lock as lock_module
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.layout import LOCK_KEY
from glue_jobs.lake.lock import Holder, LakeLock, is_stale

NOW = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def pinned_clock(monkeypatch):
    """The lock's clock stopped at NOW: ages are exact, whatever day the tests run."""
    monkeypatch.setattr(lock_module, "_now", lambda: NOW)
    return NOW


def test_second_run_is_refused_naming_the_holder(tmp_path, pinned_clock):
    storage = LocalStorage(tmp_path)
    with LakeLock(storage, "run-A"):
        with pytest.raises(LockHeld) as refused:
            LakeLock(storage, "run-B").acquire()
        # who holds it, and what to do about it
        assert str(refused.value) == (
            f"the lake {storage.root} is locked by run run-A (pid {os.getpid()} on {socket.gethostname()}, "
            f"since {NOW.isoformat()}); wait for it to finish (or, if that process is gone from another "
            f"machine, delete {LOCK_KEY} in the lake)")
    # released: the next run gets it
    with LakeLock(storage, "run-B"):
        assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "run-B"
    assert not storage.exists(LOCK_KEY)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _plant(storage, holder: Holder, key: str = LOCK_KEY) -> bytes:
    body = json.dumps(holder.__dict__).encode()
    storage.put_bytes(key, body)
    return body


def test_lock_of_a_dead_process_is_taken_over(tmp_path, pinned_clock):
    # a minute old: only the dead process frees it, not its age
    storage = LocalStorage(tmp_path)
    crashed = Holder("crashed", socket.gethostname(), _dead_pid(), (NOW - dt.timedelta(minutes=1)).isoformat())
    _plant(storage, crashed)
    lock = LakeLock(storage, "next").acquire()
    assert lock.taken_over == crashed
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "next"
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
        (Holder("r", "there", 10, (NOW - dt.timedelta(hours=6)).isoformat()), False),  # exactly the TTL: not yet
        (Holder("r", "there", 10, (NOW - dt.timedelta(hours=6, microseconds=1)).isoformat()), True),
        (Holder("r", "there", 10, "garbage"), True),
    ],
)
def test_staleness_rules(holder, stale):
    alive = {10}
    assert is_stale(holder, now=NOW, ttl=dt.timedelta(hours=6), host="here", pid_alive=lambda p: p in alive) is stale


def test_own_pid_is_alive_for_real_and_asking_sends_it_no_signal():
    import signal

    from glue_jobs.lake.lock import _pid_alive

    got = []
    catch = [signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT]
    previous = {number: signal.signal(number, lambda n, f: got.append(n)) for number in catch}
    try:
        assert _pid_alive(os.getpid())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert got == []


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


_LISTENER = """
import signal, sys
got = []
for name in ("SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGQUIT"):
    signal.signal(getattr(signal, name), lambda n, f: got.append(signal.Signals(n).name))
print("ready", flush=True)
sys.stdin.read()
print("signals:", sorted(got), flush=True)
"""


def test_checking_a_live_holder_does_not_signal_it(tmp_path, pinned_clock):
    # asking whether the holder lives must not hang it up: it is in the middle of a run
    holder = subprocess.Popen([sys.executable, "-c", _LISTENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        storage = LocalStorage(tmp_path)
        _plant(storage, Holder("running", socket.gethostname(), holder.pid, NOW.isoformat()))
        with pytest.raises(LockHeld, match=rf"locked by run running \(pid {holder.pid} on "):
            LakeLock(storage, "next").acquire()
        out, _ = holder.communicate("", timeout=60)
    finally:
        holder.kill()
    assert out == "signals: []\n"
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "running"


def test_a_process_of_another_user_counts_as_alive_to_any_checker():
    # pid 1 belongs to root: a checker that may not signal it has no proof that it died
    from glue_jobs.lake.lock import _pid_alive

    assert _pid_alive(1) is True  # as whoever runs the tests
    if os.geteuid() != 0:
        return
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the check, as an unprivileged user
        try:
            os.setuid(65534)
            os.write(write_end, repr(_pid_alive(1)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 100)
    os.close(read_end)
    os.waitpid(child, 0)
    assert answer == b"True"


class _Between:
    """The lake as one run sees it, with another run's action slotted in once, right before
    (or after) this run's first call of `method` on `key`: a race made deterministic, on real
    files with real create-only writes."""

    def __init__(self, inner, method: str, key, other, *, after: bool = False):
        self.inner, self.root = inner, inner.root
        self.method, self.key, self.other, self.after = method, key, other, after
        self.fired = False

    def _call(self, method, key, *args, **kwargs):
        matches = not self.fired and method == self.method and self.key(key)
        if matches and not self.after:
            self.fired = True
            self.other()
        try:
            return getattr(self.inner, method)(key, *args, **kwargs)
        finally:
            if matches and self.after:
                self.fired = True
                self.other()

    def put_bytes(self, key, data, **kwargs):
        return self._call("put_bytes", key, data, **kwargs)

    def get_bytes(self, key):
        return self._call("get_bytes", key)

    def delete(self, keys):
        return self._call("delete", list(keys))


def _is_marker(key) -> bool:
    return isinstance(key, str) and key.startswith(f"{LOCK_KEY}.takeover-")


def _the_lock(key) -> bool:
    return key == LOCK_KEY or key == [LOCK_KEY]


def _run(lock: LakeLock, outcome: dict) -> None:
    try:
        lock.acquire()
        outcome[lock.holder.run_id] = "holds"
    except LockHeld as exc:
        outcome[lock.holder.run_id] = str(exc)


EXPIRED = Holder("crashed", "elsewhere", 4242, (NOW - dt.timedelta(hours=7)).isoformat())


def _lock_files(storage) -> list[str]:
    return storage.list_keys(LOCK_KEY.rsplit("/", 1)[0] + "/")


def test_a_second_taker_finding_a_takeover_under_way_backs_off(tmp_path, pinned_clock):
    # B looks at the expired lock while A, holding the takeover marker, is about to replace it
    storage = LocalStorage(tmp_path)
    _plant(storage, EXPIRED)
    outcome: dict = {}
    b = LakeLock(storage, "B")
    a = LakeLock(_Between(storage, "delete", _the_lock, lambda: _run(b, outcome)), "A").acquire()
    assert a.taken_over == EXPIRED
    assert outcome == {"B": f"could not take the lock {LOCK_KEY} in {storage.root}: another run took it first"}
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "A"
    assert _lock_files(storage) == [LOCK_KEY], "no takeover marker left behind"


def test_a_lock_already_taken_over_by_another_run_is_not_claimed(tmp_path, pinned_clock):
    # A takes the expired lock over while B, which saw it expired, is about to do the same
    storage = LocalStorage(tmp_path)
    _plant(storage, EXPIRED)
    outcome: dict = {}
    a = LakeLock(storage, "A")
    b = LakeLock(_Between(storage, "put_bytes", _is_marker, lambda: _run(a, outcome)), "B")
    with pytest.raises(LockHeld, match=r"is locked by run A \("):
        b.acquire()
    assert outcome == {"A": "holds"} and a.taken_over == EXPIRED and b.taken_over is None
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "A"
    assert _lock_files(storage) == [LOCK_KEY]


def test_a_run_that_takes_the_free_lake_mid_takeover_keeps_it(tmp_path, pinned_clock):
    # B has removed the expired lock; before it writes its own, A finds the lake free and takes it
    storage = LocalStorage(tmp_path)
    _plant(storage, EXPIRED)
    outcome: dict = {}
    a = LakeLock(storage, "A")
    b = LakeLock(_Between(storage, "delete", _the_lock, lambda: _run(a, outcome), after=True), "B")
    with pytest.raises(LockHeld, match=r"is locked by run A \("):
        b.acquire()
    assert outcome == {"A": "holds"} and a.taken_over is None
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "A"
    assert _lock_files(storage) == [LOCK_KEY]


def test_a_lock_released_while_we_looked_is_taken_at_the_next_try(tmp_path, pinned_clock):
    storage = LocalStorage(tmp_path)
    a = LakeLock(storage, "A").acquire()
    b = LakeLock(_Between(storage, "get_bytes", _the_lock, a.release), "B").acquire()
    assert b.taken_over is None
    assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "B"


@pytest.mark.parametrize(("age", "host", "cleared"), [
    (dt.timedelta(minutes=3), "elsewhere", True),  # older than a takeover ever takes
    (dt.timedelta(seconds=10), "here", True),  # its process on this machine is dead
    (dt.timedelta(minutes=1), "elsewhere", False),  # may still be at work on another machine
])
def test_a_takeover_marker_left_by_a_dead_contender_expires(tmp_path, pinned_clock, age, host, cleared):
    storage = LocalStorage(tmp_path)
    raw = _plant(storage, EXPIRED)
    marker = f"{LOCK_KEY}.takeover-{hashlib.sha256(raw).hexdigest()[:16]}"
    died = Holder("taker", socket.gethostname() if host == "here" else host, _dead_pid(), (NOW - age).isoformat())
    _plant(storage, died, marker)
    if cleared:
        lock = LakeLock(storage, "next").acquire()
        assert lock.taken_over == EXPIRED
        assert _lock_files(storage) == [LOCK_KEY]
    else:
        with pytest.raises(LockHeld, match="another run took it first"):
            LakeLock(storage, "next").acquire()
        assert _lock_files(storage) == [LOCK_KEY, marker]
        assert json.loads(storage.get_bytes(LOCK_KEY))["run_id"] == "crashed"


def test_the_start_is_recorded_in_utc_and_judged_by_the_real_clock(tmp_path):
    # unpinned on purpose: the stamp is compared with stamps other machines wrote, in UTC
    storage = LocalStorage(tmp_path)
    seven_hours_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=7)).isoformat()
    _plant(storage, Holder("elsewhere", "other-host", 1, seven_hours_ago))
    with LakeLock(storage, "r1") as lock:
        assert lock.taken_over is not None and lock.taken_over.run_id == "elsewhere"
        stamp = dt.datetime.fromisoformat(json.loads(storage.get_bytes(LOCK_KEY))["started_at"])
        assert stamp.utcoffset() == dt.timedelta(0)
