"""Locally, the event path of AWS in process: announce every published manifest the local
queue has not carried yet (what S3 -> EventBridge -> SQS does on AWS), then drain the queue
through the loader, deleting each message once its writes are done.

`tickerlake serve sync` and the serve stage call sync(). The queue is durable and the writes
are conditional on versions, so a crash anywhere (after a receive, between write chunks, after
the writes but before the delete) converges on the next sync: a received message reappears
when its visibility timeout passes and is applied again, changing nothing it already changed.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from glue_jobs.lake import failpoints, layout
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.queue import MAX_BATCH, Queue
from glue_jobs.ports.serving import WriteResult
from glue_jobs.ports.storage import NotFound
from glue_jobs.serve import loader

log = logging.getLogger("tickerlake.serve")

QUEUE_NAME = "serve"
LOCAL_BUCKET = "local-lake"  # the bucket name local events carry (a local lake's keys are relative)
VISIBILITY_TIMEOUT = 60  # seconds a received message stays hidden: a dead sync's messages return after it


@dataclass
class SyncResult:
    announced: int = 0  # manifests put on the queue by this sync
    received: int = 0  # messages received (a retried message counts each time)
    loaded: int = 0  # messages applied and deleted
    skipped: int = 0  # messages that were not published manifests (deleted)
    failed: int = 0  # receives that failed (the message is retried, then dead-lettered)
    written: int = 0
    stale: int = 0
    deleted: int = 0
    retried: int = 0
    dead_letters: int = 0  # messages in the dead-letter queue after this sync
    failures: list[str] = field(default_factory=list)  # "message id: reason", once per message
    loaded_manifests: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> list[str]:
        """Lines for people (`tickerlake serve sync`)."""
        lines = [f"serve sync: {self.announced} manifest(s) announced, {self.loaded} loaded, {self.failed} failed "
                 f"receive(s); bars written {self.written}, already current {self.stale}, deleted {self.deleted}"]
        lines += [f"  failed: {f}" for f in self.failures]
        if self.dead_letters:
            lines.append(f"  {self.dead_letters} message(s) in the dead-letter queue (queues/serve.sqlite, "
                         "queue serve-dlq), each with its reason")
        return lines


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def announce_new(storage: Any, queue: Queue) -> int:
    """Put an "Object Created" event on the queue for each published manifest created or changed
    since the last announce (recorded in state/serving_events.json). Recorded after sending:
    a crash in between announces a manifest twice, which the loader's versions absorb."""
    try:
        seen = json.loads(storage.get_bytes(layout.SERVING_EVENTS_KEY))
    except NotFound:
        seen = {}
    sent = 0
    for key in sorted(storage.list_keys(layout.PUBLISHED_MANIFEST_PREFIX)):
        if not layout.is_published_manifest_key(key):
            continue
        try:
            digest_now = digest(storage.get_bytes(key))
        except NotFound:
            continue
        if seen.get(key) == digest_now:
            continue
        queue.send(loader.event_body(LOCAL_BUCKET, key))
        seen[key] = digest_now
        sent += 1
    if sent:
        storage.put_bytes(layout.SERVING_EVENTS_KEY, (json.dumps(seen, indent=1, sort_keys=True) + "\n").encode())
    return sent


def drain(storage: Any, serving: Any, queue: Queue, *, visibility_timeout: int = VISIBILITY_TIMEOUT,
          result: SyncResult | None = None) -> SyncResult:
    """Receive, load and delete until the queue shows nothing visible. A failed message is made
    visible again at once (no point waiting locally) and reaches the dead-letter queue after
    its fifth receive."""
    out = result or SyncResult()
    written = WriteResult()
    reasons: dict[str, str] = {}
    while True:
        messages = queue.receive(MAX_BATCH, visibility_timeout=visibility_timeout)
        if not messages:
            break
        out.received += len(messages)
        failpoints.hit("serve.after_receive", messages[0].message_id)
        done = loader.load([loader.Record(m.message_id, m.body) for m in messages], storage, serving)
        written = written.add(done.written)
        serving.make_durable()  # before a message is deleted, what it carried must outlive a power cut
        for m in messages:
            reason = done.failures.get(m.message_id)
            if reason is not None:
                out.failed += 1
                reasons[m.message_id] = reason
                queue.note_failure(m.receipt_handle, reason)
                queue.change_visibility(m.receipt_handle, 0)
                continue
            failpoints.hit("serve.before_delete", m.message_id)
            queue.delete(m.receipt_handle)
            if m.message_id in done.skipped:
                out.skipped += 1
            else:
                out.loaded += 1
                out.loaded_manifests += [k for _, k in loader.object_keys(m.body)]
    out.written += written.written
    out.stale += written.stale
    out.deleted += written.deleted
    out.retried += written.retried
    out.failures += [f"{mid}: {why}" for mid, why in sorted(reasons.items())]
    dead = getattr(queue, "dead_letters", None)
    out.dead_letters = len(dead()) if callable(dead) else 0
    return out


def sync(runtime: Any, *, visibility_timeout: int = VISIBILITY_TIMEOUT) -> SyncResult:
    """Announce new published manifests on the local queue and drain it into the serving table.
    `runtime` is a glue_jobs.runtime.Runtime or a RunContext of a local lake."""
    if getattr(runtime, "queue_factory", None) is None:
        raise ConfigError("serve sync drains the local queue; on AWS the loader Lambda reads the SQS queue "
                          "(S3 -> EventBridge -> SQS): there is nothing to sync by hand")
    queue = runtime.queue_factory(QUEUE_NAME)
    try:
        out = SyncResult(announced=announce_new(runtime.storage, queue))
        return drain(runtime.storage, runtime.serving, queue, visibility_timeout=visibility_timeout, result=out)
    finally:
        close = getattr(queue, "close", None)
        if callable(close):
            close()
