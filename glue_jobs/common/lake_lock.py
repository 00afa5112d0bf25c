"""One writer per lake: a create-only lock object (an O_EXCL file locally, an S3
conditional write on AWS) holding who took it. A lock whose holder is gone is taken
over: locally when its process is dead, anywhere when it is older than the TTL."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import dataclass

from glue_jobs.adapters.storage import AlreadyExists, NotFound, Storage
from glue_jobs.common.lake_layout import LOCK_KEY
from glue_jobs.errors import LockHeld

DEFAULT_TTL = dt.timedelta(hours=6)


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

    def _read(self) -> Holder | None:
        try:
            data = json.loads(self.storage.get_bytes(LOCK_KEY))
            return Holder(**data)
        except NotFound:
            return None
        except (ValueError, TypeError):
            return Holder("unknown", "unknown", -1, "")

    def acquire(self) -> LakeLock:
        body = json.dumps(self.holder.__dict__).encode()
        for _ in range(2):
            try:
                self.storage.put_bytes(LOCK_KEY, body, create_only=True)
                return self
            except AlreadyExists:
                current = self._read()
                if current is None:
                    continue
                if not is_stale(current, now=_now(), ttl=self.ttl, host=self.holder.host, pid_alive=_pid_alive):
                    raise LockHeld(
                        f"the lake {self.storage.root} is locked by {current.describe()}; "
                        "wait for it to finish (or, if that process is gone from another machine, "
                        f"delete {LOCK_KEY} in the lake)"
                    ) from None
                # A dead holder: remove its lock, then race for it like everyone else.
                self.taken_over = current
                self.storage.delete([LOCK_KEY])
        raise LockHeld(f"could not take the lock {LOCK_KEY} in {self.storage.root}: another run took it first")

    def release(self) -> None:
        current = self._read()
        if current is not None and current.run_id == self.holder.run_id:
            self.storage.delete([LOCK_KEY])

    def __enter__(self) -> LakeLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
