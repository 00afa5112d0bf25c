"""What the local adapters' SQLite files (queue, stream, serving and quotes tables, token
bucket) share: how one is opened, and a write transaction."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from glue_jobs.lake import failpoints

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_SECONDS = 30.0  # how long a connection waits for another's lock before it gives up


def sync_to_disk(path: str) -> None:
    """The commits of the WAL-mode file `path` on disk, whatever its connections' synchronous
    setting: at NORMAL a commit can sit unsynced in the WAL until a checkpoint (SQLite syncs the
    database file itself after each checkpoint), and one fsync of the WAL covers every commit in
    it. The database file is synced too, for a write made in the rollback journal at NORMAL (the
    serving table's bulk path)."""
    for name in (path + "-wal", path):
        try:
            fd = os.open(name, os.O_RDONLY)
        except FileNotFoundError:
            continue  # no WAL: nothing was written since the last connection closed
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_wal(path: str, schema: str, *, synchronous: str, check_same_thread: bool = True,
             pragmas: tuple[str, ...] = ()) -> sqlite3.Connection:
    """A connection to `path` (made with its folder and `schema` when new) in WAL mode, so readers
    read while one writer writes. isolation_level=None: every transaction is opened by the adapter
    (BEGIN IMMEDIATE takes the write lock up front). `synchronous`: "full" where a committed write
    must survive a power cut (queues, the stream, the bucket), "normal" where a crash of the
    process is what matters (the serving tables, which the queues can refill)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=check_same_thread)
    try:
        mode = when_unlocked(lambda: con.execute("pragma journal_mode = wal").fetchone()[0])
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{path}: SQLite kept journal mode {mode!r}, not WAL")
        con.execute(f"pragma synchronous = {synchronous}")
        for pragma in pragmas:
            con.execute(f"pragma {pragma}")
        when_unlocked(lambda: con.executescript(schema))
    except BaseException:
        con.close()
        raise
    return con


def when_unlocked(step: Callable[[], T], *, seconds: float = BUSY_SECONDS, pause: float = 0.01) -> T:
    """`step`, tried again while SQLite answers "database is locked", for up to `seconds`.

    The busy timeout does not cover every lock: a file's switch to WAL is refused at once while
    another connection's first write (the one that creates the file's tables, before the file
    is WAL) holds it. Workers opening one new file together hit exactly that: a fan-out worker
    thread died of it instead of waiting its turn."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any failure: written whole or not at all."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("begin immediate")

    def __exit__(self, kind, *_: object) -> None:
        self.con.execute("commit" if kind is None else "rollback")


class PerThread:
    """One connection per thread to a WAL file (sqlite3 connections stay in the thread that made
    them; the HTTP server reads from its own threads), opened on first use."""

    def __init__(self, path: str, schema: str, *, synchronous: str, pragmas: tuple[str, ...] = ()):
        self.path, self._schema, self._synchronous, self._pragmas = path, schema, synchronous, pragmas
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = open_wal(self.path, self._schema, synchronous=self._synchronous,
                                                pragmas=self._pragmas)
        return con

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


class BackgroundCheckpoint:
    """The WAL's checkpoints in a thread of their own, after the writes, for a file whose writer
    opens it with wal_autocheckpoint = 0. SQLite's automatic checkpoint runs inside the commit
    that crosses 1,000 pages, copying them into the database file and waiting on two fsyncs
    there: a day's 5,200 bars spent about 0.13 of the serve stage's 0.22 s so, and the intraday
    consumer's quote batches about a fifth of its wall time, most of it waiting on the disk.
    Here the writer calls `written` after each commit and every CHECKPOINT_ROWS rows (a row's
    page each, at most) one starts, so a long stream of writes keeps its WAL bounded; a writer
    may also ask for one when its work is done (`start`: the serving table's, while a run's
    ledger and page are made). A checkpoint is passive, on a connection of its own: it blocks
    no reader or writer. Otherwise the last connection's close checkpoints, as before.

    Nothing changes for a crash: a checkpoint cut short leaves its frames in the WAL, which
    SQLite reads back on the next open, and what a power cut can lose is still the commits
    since the last completed checkpoint (synchronous NORMAL, as before) unless the writer
    synced them (sync_to_disk). The thread is not a daemon: the process ends after its
    checkpoint does."""

    CHECKPOINT_ROWS = 20_000  # at most about 80 MB of WAL (a 4 KB page a row); quotes measured about 40 MB

    def __init__(self, path: str, what: str, *, failpoint: str):
        self.path = path
        self.what = what  # the file, as a warning names it ("serving table")
        self.failpoint = failpoint  # where a test can stop a checkpoint before it starts
        self._lock = threading.Lock()
        self._since = 0  # rows written since the last checkpoint started
        self._again = False  # asked for while one was running: run once more after it
        self._thread: threading.Thread | None = None

    def written(self, rows: int) -> None:
        with self._lock:
            self._since += rows
            due = self._since >= self.CHECKPOINT_ROWS
        if due:
            self.start()

    def start(self) -> None:
        """A checkpoint of what was written since the last one, in the thread (none if nothing was)."""
        with self._lock:
            if not self._since:
                return
            self._since = 0
            if self._thread is not None:
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name=f"tickerlake-checkpoint ({self.what})")
            self._thread.start()

    def wait(self) -> None:
        """Until no checkpoint runs (before a bulk write, at close)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            try:
                failpoints.hit(self.failpoint, self.path)
                con = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
                try:
                    con.execute("pragma wal_checkpoint(passive)").fetchall()
                finally:
                    con.close()
            except sqlite3.Error as exc:  # nothing is lost: the frames wait in the WAL for the next
                log.warning("%s %s: a checkpoint failed (%s); the next one retries", self.what, self.path, exc)
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
