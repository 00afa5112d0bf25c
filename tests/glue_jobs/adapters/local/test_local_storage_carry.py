"""carry: publish takes a version's untouched files into the next version without reading them;
each name stands on its own afterwards (the janitor deletes old versions' names)."""
from __future__ import annotations

import errno
import os

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.ports.storage import AlreadyExists, NotFound

OLD = "warehouse/daily_prices/trade_year=2024/v=r1/seg-20240101-20241031-00000.parquet"
NEW = "warehouse/daily_prices/trade_year=2024/v=r2/seg-20240101-20241031-00000.parquet"


def test_a_carried_file_outlives_the_version_it_was_carried_from(tmp_path):
    lake = LocalStorage(tmp_path)
    lake.put_bytes(OLD, b"settled rows")
    lake.carry(OLD, NEW)
    assert lake.get_bytes(NEW) == b"settled rows"
    assert os.stat(lake.uri(NEW)).st_ino == os.stat(lake.uri(OLD)).st_ino  # a link: no byte copied
    lake.delete([OLD])  # the janitor removing the old version
    assert lake.get_bytes(NEW) == b"settled rows"


def test_carry_copies_where_the_file_system_cannot_link(tmp_path, monkeypatch):
    lake = LocalStorage(tmp_path)
    lake.put_bytes(OLD, b"settled rows")

    link = os.link

    def cross_device(src, dst):  # as if each version folder were a file system of its own
        if os.path.dirname(src) != os.path.dirname(dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        link(src, dst)

    monkeypatch.setattr(os, "link", cross_device)
    lake.carry(OLD, NEW)
    monkeypatch.undo()
    assert lake.get_bytes(NEW) == b"settled rows"
    assert os.stat(lake.uri(NEW)).st_ino != os.stat(lake.uri(OLD)).st_ino


def test_carry_never_replaces_a_file_and_names_a_missing_source(tmp_path):
    lake = LocalStorage(tmp_path)
    lake.put_bytes(OLD, b"settled rows")
    lake.put_bytes(NEW, b"other rows")
    with pytest.raises(AlreadyExists, match="v=r2"):
        lake.carry(OLD, NEW)
    assert lake.get_bytes(NEW) == b"other rows"
    with pytest.raises(NotFound, match="v=r9"):
        lake.carry(OLD.replace("v=r1", "v=r9"), NEW.replace("v=r2", "v=r3"))
