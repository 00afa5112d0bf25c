"""Writes the local lake defers (durable=False) are readable at once and made durable by one
sync of the lake's file system; a failed sync says so and asks again next time."""
from __future__ import annotations

import ctypes
import errno

import pytest

from glue_jobs.adapters.local import storage as local_storage
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.ports.storage import StorageError


@pytest.fixture
def syncs(monkeypatch):
    calls: list[str] = []
    real = local_storage._sync_file_system
    monkeypatch.setattr(local_storage, "_sync_file_system", lambda root: (calls.append(root), real(root)))
    return calls


def test_a_deferred_write_is_readable_at_once_and_synced_by_the_flush(tmp_path, syncs):
    lake = LocalStorage(tmp_path)
    lake.put_bytes("raw/a/body.csv", b"a", durable=False)
    lake.put_bytes("raw/b/body.csv", b"b", durable=False)
    assert lake.get_bytes("raw/a/body.csv") == b"a" and lake.list_keys("raw/") == ["raw/a/body.csv", "raw/b/body.csv"]
    assert syncs == []
    lake.flush()
    assert syncs == [lake.root]
    lake.flush()  # nothing written since: no second sync of a whole file system
    assert syncs == [lake.root]


def test_a_flush_after_durable_writes_only_costs_nothing(tmp_path, syncs):
    lake = LocalStorage(tmp_path)
    lake.put_bytes("state/x.json", b"{}")
    lake.flush()
    assert syncs == []


def test_a_failed_sync_names_the_lake_and_the_next_flush_tries_again(tmp_path, monkeypatch):
    lake = LocalStorage(tmp_path)
    lake.put_bytes("raw/a/body.csv", b"a", durable=False)

    class FailingLibc:
        @staticmethod
        def syncfs(fd):
            ctypes.set_errno(errno.EIO)
            return -1

    monkeypatch.setattr(local_storage, "_libc", lambda: FailingLibc)
    with pytest.raises(StorageError, match=f"syncing the lake {lake.root} to disk failed: Input/output error"):
        lake.flush()
    tried = []
    monkeypatch.setattr(local_storage, "_sync_file_system", tried.append)
    lake.flush()
    assert tried == [lake.root]
