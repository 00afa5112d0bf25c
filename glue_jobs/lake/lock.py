"""One writer per lake: a create-only lock object (an O_EXCL file locally, an S3
conditional write on AWS) holding who took it. A lock whose holder is gone is taken
over: locally when its process is dead, anywhere when it is older than the TTL.

Taking over is itself guarded: two runs that find the same dead lock race for a create-only
marker named after that lock's bytes, and only the winner replaces the lock. Without it, the
slower one could delete the lock the faster one had just taken, and both would run."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from dataclasses import dataclass

from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.layout import LOCK_KEY
from glue_jobs.ports.storage import AlreadyExists, NotFound, Storage

DEFAULT_TTL = dt.timedelta(hours=6)
# A takeover takes milliseconds; a marker older than this belongs to a contender that died.
TAKEOVER_TTL = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Holder:
    run_id: str
    host: str
    pid: int
    started_at: str

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.started_at})"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def is_stale(holder: Holder, *, now: dt.datetime, ttl: dt.timedelta, host: str, pid_alive) -> bool:
    """Pure: may this lock be taken over?"""
    try:
        started = dt.datetime.fromisoformat(holder.started_at)
    except ValueError:
        return True
    if now - started > ttl:
        return True
    return holder.host == host and not pid_alive(holder.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LakeLock:
    def __init__(self, storage: Storage, run_id: str, *, ttl: dt.timedelta = DEFAULT_TTL):
        self.storage = storage
        self.holder = Holder(run_id, socket.gethostname(), os.getpid(), _now().isoformat())
        self.ttl = ttl
        self.taken_over: Holder | None = None

    def _read_raw(self, key: str = LOCK_KEY) -> bytes | None:
        try:
            return self.storage.get_bytes(key)
        except NotFound:
            return None

    def _read(self) -> Holder | None:
        raw = self._read_raw()
        return None if raw is None else _parse(raw)

    def _stale(self, holder: Holder, ttl: dt.timedelta) -> bool:
        return is_stale(holder, now=_now(), ttl=ttl, host=self.holder.host, pid_alive=_pid_alive)

    def acquire(self) -> LakeLock:
        body = json.dumps(self.holder.__dict__).encode()
        for _ in range(3):
            try:
                self.storage.put_bytes(LOCK_KEY, body, create_only=True)
                return self
            except AlreadyExists:
                pass
            raw = self._read_raw()
            if raw is None:
                continue  # released meanwhile: race for it again
            current = _parse(raw)
            if not self._stale(current, self.ttl):
                raise LockHeld(
                    f"the lake {self.storage.root} is locked by {current.describe()}; "
                    "wait for it to finish (or, if that process is gone from another machine, "
                    f"delete {LOCK_KEY} in the lake)"
                )
            if self._take_over(raw, current, body):
                return self
        raise LockHeld(f"could not take the lock {LOCK_KEY} in {self.storage.root}: another run took it first")

    def _take_over(self, raw: bytes, current: Holder, body: bytes) -> bool:
        """Replace the dead holder's lock (exactly the bytes `raw`) by ours, if we win its marker."""
        marker = f"{LOCK_KEY}.takeover-{hashlib.sha256(raw).hexdigest()[:16]}"
        try:
            self.storage.put_bytes(marker, body, create_only=True)
        except AlreadyExists:
            # Another run is taking this lock over; one that died doing so leaves a marker, which expires.
            taker = self._read_raw(marker)
            if taker is not None and self._stale(_parse(taker), TAKEOVER_TTL):
                self.storage.delete([marker])
            return False
        try:
            if self._read_raw() != raw:
                return False  # already replaced: the next attempt sees by whom
            self.storage.delete([LOCK_KEY])
            try:
                self.storage.put_bytes(LOCK_KEY, body, create_only=True)
            except AlreadyExists:
                return False
            self.taken_over = current
            return True
        finally:
            self.storage.delete([marker])

    def release(self) -> None:
        """Remove the lock if it is still ours (a lock taken over from us is not touched)."""
        current = self._read()
        if current is not None and current.run_id == self.holder.run_id:
            self.storage.delete([LOCK_KEY])

    def __enter__(self) -> LakeLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _parse(raw: bytes) -> Holder:
    try:
        return Holder(**json.loads(raw))
    except (ValueError, TypeError):
        return Holder("unknown", "unknown", -1, "")
