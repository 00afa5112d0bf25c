"""The queue interface: SQS's standard-queue semantics, which the event path relies on. SQS on
AWS; locally a durable SQLite queue (glue_jobs/adapters/local/queue_sqlite.py).

What callers may rely on, on both:
- at least once: a message is delivered until it is deleted; duplicates happen;
- visibility timeout: a received message is hidden until deleted or until the timeout passes;
- receive count: incremented on every receive (SQS's ApproximateReceiveCount);
- receipt handles: each receive hands out a new one; only the latest deletes the message (a
  stale handle's delete is a no-op, as on SQS, so a consumer that was too slow cannot delete a
  message another consumer now holds);
- dead letters: a message received `max_receive_count` times and still not deleted moves to the
  dead-letter queue on the next receive instead of being delivered again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MAX_RECEIVE_COUNT = 5  # the redrive policy's maxReceiveCount, locally and in the stack
MAX_BATCH = 10  # SQS ReceiveMessage returns at most 10 messages


class QueueError(RuntimeError):
    """The queue refused an operation (e.g. a stale receipt handle's visibility change)."""


@dataclass(frozen=True)
class Message:
    message_id: str
    body: str
    receipt_handle: str
    receive_count: int  # including this receive


@dataclass(frozen=True)
class Depth:
    visible: int  # ApproximateNumberOfMessages
    in_flight: int  # ApproximateNumberOfMessagesNotVisible


class Queue(Protocol):
    name: str

    def send(self, body: str) -> str:
        """Enqueue `body`; returns the message id."""

    def receive(self, max_messages: int = 1, visibility_timeout: int | None = None) -> list[Message]:
        """Up to `max_messages` (<= 10) visible messages, hidden for `visibility_timeout` seconds
        (the queue's default when None). Messages over the receive limit go to the dead-letter
        queue instead. May return fewer than are visible (SQS samples its servers)."""

    def delete(self, receipt_handle: str) -> None:
        """Delete the message this handle was given for, if it is still the latest handle."""

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        """Hide the message for `timeout` more seconds (0: visible now). Raises QueueError when
        the handle is not the message's latest or the message is not in flight."""

    def note_failure(self, receipt_handle: str, reason: str) -> None:
        """Remember why the consumer failed this receive, so the message reaches the dead-letter
        queue with its reason. SQS cannot attach text to a message: there the reason is in the
        consumer's log, and this does nothing."""

    def depth(self) -> Depth:
        """How many messages are waiting and in flight (approximate on SQS)."""
