"""A durable queue with SQS's standard-queue semantics in one SQLite file (the standard
library's sqlite3, WAL, synchronous=FULL): <lake>/queues/<name>.sqlite.

The queue and its dead-letter queue live in the same file (rows tagged with their queue), so
moving a message to the dead-letter queue is one transaction: a crash never loses it or leaves
it in both. Every operation is one transaction: a process killed at any point leaves the queue
as it was before or after that operation, never in between. A received message that its
consumer never deletes (the consumer died) becomes visible again when its visibility timeout
passes, exactly as on SQS.
"""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from glue_jobs.adapters.local.sqlite_files import Transaction, open_wal
from glue_jobs.ports.queue import MAX_BATCH, MAX_RECEIVE_COUNT, Depth, Message, QueueError

DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS's default

_SCHEMA = """
create table if not exists messages (
    seq integer primary key autoincrement,  -- send order: SQS standard queues do not promise it; we keep it
    message_id text not null unique,
    queue text not null,
    body text not null,
    sent_at real not null,
    visible_at real not null,
    receive_count integer not null default 0,
    receipt text,                           -- the latest receipt handle; null until received
    last_failure text,                      -- why the last consumer failed it (note_failure)
    dead_reason text,                       -- set when it moved to the dead-letter queue
    moved_at real
);
create index if not exists messages_visible on messages (queue, visible_at, seq);
create unique index if not exists messages_receipt on messages (receipt);
"""


def queue_path(lake_dir: str | os.PathLike[str], name: str) -> str:
    return os.path.join(os.fspath(lake_dir), "queues", f"{name}.sqlite")


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    reason: str
    moved_at: float


class SqliteQueue:
    """One queue (and its dead-letter queue, `<name>-dlq`) in the SQLite file at `path`."""

    def __init__(self, path: str | os.PathLike[str], name: str, *, max_receive_count: int = MAX_RECEIVE_COUNT,
                 visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT, clock: Callable[[], float] = time.time,
                 dead_letter: bool = True):
        self.path = os.fspath(path)
        self.name = name
        self.dead_letter_name = f"{name}-dlq" if dead_letter else None
        self.max_receive_count = max_receive_count
        self.visibility_timeout = visibility_timeout
        self._clock = clock
        # BEGIN IMMEDIATE takes the write lock up front, so two consumers never receive the same
        # visible message; a committed send survives a power cut, not only a crash
        self._db = open_wal(self.path, _SCHEMA, synchronous="full")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tx(self):
        return Transaction(self._db)

    # -- the port ------------------------------------------------------------------------------

    def send(self, body: str) -> str:
        message_id = secrets.token_hex(16)
        now = self._clock()
        with self._tx():
            self._db.execute("insert into messages (message_id, queue, body, sent_at, visible_at) values (?, ?, ?, ?, ?)",
                             (message_id, self.name, body, now, now))
        return message_id

    def receive(self, max_messages: int = 1, visibility_timeout: int | None = None) -> list[Message]:
        if not 1 <= max_messages <= MAX_BATCH:
            raise QueueError(f"max_messages {max_messages}: SQS takes 1 to {MAX_BATCH}")
        timeout = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        out: list[Message] = []
        with self._tx():
            now = self._clock()
            rows = self._db.execute(
                "select seq, message_id, body, receive_count, last_failure from messages "
                "where queue = ? and visible_at <= ? order by seq", (self.name, now)).fetchall()
            for seq, message_id, body, count, failure in rows:
                if len(out) == max_messages:
                    break
                if self.dead_letter_name and count >= self.max_receive_count:
                    # SQS moves a message on the receive after its maxReceiveCount-th
                    reason = (f"received {count} times (maxReceiveCount {self.max_receive_count}) without being "
                              f"deleted; last failure: {failure or 'none recorded (the consumer did not say)'}")
                    self._db.execute("update messages set queue = ?, receive_count = 0, receipt = null, "
                                     "visible_at = ?, dead_reason = ?, moved_at = ? where seq = ?",
                                     (self.dead_letter_name, now, reason, now, seq))
                    continue
                receipt = f"{message_id}.{secrets.token_hex(12)}"
                self._db.execute("update messages set receive_count = receive_count + 1, receipt = ?, "
                                 "visible_at = ? where seq = ?", (receipt, now + timeout, seq))
                out.append(Message(message_id, body, receipt, count + 1))
        return out

    def delete(self, receipt_handle: str) -> None:
        with self._tx():
            # a stale handle matches no row: like SQS, the call succeeds and deletes nothing
            self._db.execute("delete from messages where receipt = ? and queue = ?", (receipt_handle, self.name))

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        with self._tx():
            now = self._clock()
            row = self._db.execute("select visible_at from messages where receipt = ? and queue = ?",
                                   (receipt_handle, self.name)).fetchone()
            if row is None:
                raise QueueError("the receipt handle is not the message's latest (ReceiptHandleIsInvalid)")
            if row[0] <= now:
                raise QueueError("the message is not in flight: its visibility timeout passed (MessageNotInflight)")
            self._db.execute("update messages set visible_at = ? where receipt = ?", (now + timeout, receipt_handle))

    def note_failure(self, receipt_handle: str, reason: str) -> None:
        with self._tx():
            self._db.execute("update messages set last_failure = ? where receipt = ? and queue = ?",
                             (reason[:2000], receipt_handle, self.name))

    def depth(self) -> Depth:
        now = self._clock()
        visible, in_flight = self._db.execute(
            "select coalesce(sum(visible_at <= ?), 0), coalesce(sum(visible_at > ?), 0) from messages where queue = ?",
            (now, now, self.name)).fetchone()
        return Depth(int(visible), int(in_flight))

    # -- local extras ---------------------------------------------------------------------------

    def dead_letters(self) -> list[DeadLetter]:
        """What went to the dead-letter queue, with why (oldest first)."""
        if not self.dead_letter_name:
            return []
        rows = self._db.execute("select message_id, body, receive_count, dead_reason, moved_at from messages "
                                "where queue = ? order by seq", (self.dead_letter_name,)).fetchall()
        return [DeadLetter(m, b, c, r or "", t or 0.0) for m, b, c, r, t in rows]

    def dead_letter_queue(self) -> SqliteQueue:
        """The dead-letter queue as a queue of its own (to inspect or redrive it)."""
        if not self.dead_letter_name:
            raise QueueError(f"queue {self.name} has no dead-letter queue")
        return SqliteQueue(self.path, self.dead_letter_name, dead_letter=False, clock=self._clock,
                           visibility_timeout=self.visibility_timeout)

