"""What the serving table was given outlives a power cut before anything forgets that it was
given: the queue message that carried a manifest is deleted, and a bulk-filled table's
manifests are recorded as announced, only after the table's writes are on disk. The local
table commits at synchronous NORMAL, whose commits can sit unsynced in the WAL until a
checkpoint; the queue's delete is synced (FULL), so without this a power cut could keep the
delete and lose the bars, and nothing would carry them again."""
from __future__ import annotations

import os
from decimal import Decimal

from glue_jobs.adapters.local.queue_sqlite import SqliteQueue
from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.lake import layout
from glue_jobs.ports.serving import Bar
from glue_jobs.runtime import open_runtime
from tests.glue_jobs.serve.test_serve_catch_up import lose_the_serving_table
from tests.glue_jobs.serve.test_serve_on_a_lake import publish_day, published, served


def spy(monkeypatch, events: list, cls: type, names: dict[str, str]) -> None:
    """Each call of the methods `names` of `cls` noted in `events` (as names[method]), in order."""
    for name, label in names.items():
        original = getattr(cls, name)

        def noted(self, *args, _original=original, _label=label, **kwargs):
            events.append(_label)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, noted)


def record_events(monkeypatch, events: list) -> None:
    """Each serving write, make_durable and queue delete, in the order they happen."""
    spy(monkeypatch, events, SqliteServingTable, {n: n for n in (
        "put_bars", "delete_bars", "put_columns_unconditionally", "make_durable")})
    spy(monkeypatch, events, SqliteQueue, {"delete": "queue.delete"})


def test_a_message_is_deleted_only_after_the_bars_it_carried_are_made_durable(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    events: list[str] = []
    record_events(monkeypatch, events)
    publish_day(root, "D")  # its serve stage loads D's manifest through the queue

    assert served(root) == published(root)
    assert "queue.delete" in events and "put_bars" in events
    for n, event in enumerate(events):
        if event == "queue.delete":
            last_write = max(i for i, e in enumerate(events[:n]) if e in ("put_bars", "delete_bars"))
            assert "make_durable" in events[last_write:n], events


def test_a_bulk_fill_is_made_durable_before_its_manifests_are_recorded_as_announced(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    lose_the_serving_table(root)
    events: list[str] = []
    record_events(monkeypatch, events)
    storage_type = type(open_runtime(str(root)).storage)
    original_put = storage_type.put_bytes

    def put_bytes(self, key, body, *args, **kwargs):
        if key == layout.SERVING_EVENTS_KEY:
            events.append("announced")
        return original_put(self, key, body, *args, **kwargs)

    monkeypatch.setattr(storage_type, "put_bytes", put_bytes)
    publish_day(root, "D")  # its serve stage finds the table empty: the bulk path fills it

    assert served(root) == published(root)
    bulk, announced = events.index("put_columns_unconditionally"), events.index("announced")
    assert bulk < events.index("make_durable", bulk) < announced, events


def test_the_local_table_syncs_the_wal_that_holds_its_commits(tmp_path, monkeypatch):
    table = SqliteServingTable(tmp_path / "bars.sqlite")
    table.put_bars([Bar("AAA", "2024-01-02", Decimal("1"), Decimal("2"), Decimal("0.5"), Decimal("1.5"), 100, "run-1", "v1")])
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd).st_ino)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    table.make_durable()
    wal = tmp_path / "bars.sqlite-wal"
    assert wal.stat().st_size > 0  # the commit is in the WAL (NORMAL: not synced by the commit)
    assert wal.stat().st_ino in synced
    table.close()
