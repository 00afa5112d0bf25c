"""The local lake's listing (LocalStorage.list_keys, its own walk over os.scandir): every object
below a prefix, by its key, sorted, and nothing a reader must not see (a partial write, what a
symlinked folder holds, a folder it cannot read)."""
from __future__ import annotations

import os

import pytest

from glue_jobs.adapters.local.storage import LocalStorage


@pytest.fixture
def lake(tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    for key in ("raw/daily/ingest_date=2024-12-02/symbol=BBB/run_id=r1/body.csv",
                "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r1/body.csv",
                "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r2/body.csv",
                "raw/daily/ingest_date=2024-12-03/symbol=AAA/run_id=r3/body.csv",
                "runs/r1.json"):
        storage.put_bytes(key, b"x")
    return storage


def test_the_listing_holds_every_object_below_the_prefix_by_key_and_sorted(lake):
    assert lake.list_keys("raw/daily/ingest_date=2024-12-02/") == [
        "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r1/body.csv",
        "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r2/body.csv",
        "raw/daily/ingest_date=2024-12-02/symbol=BBB/run_id=r1/body.csv",
    ]
    assert len(lake.list_keys("")) == 5 and lake.list_keys("runs/") == ["runs/r1.json"]
    assert lake.list_keys("nothing/here/") == []


def test_the_listing_leaves_out_partial_writes_symlinked_folders_and_unreadable_ones(lake, tmp_path):
    day = os.path.join(lake.root, "raw", "daily", "ingest_date=2024-12-02")
    with open(os.path.join(day, "symbol=AAA", "run_id=r1", ".tmp-0123456789ab"), "wb") as fh:
        fh.write(b"half")  # a write in progress (or a crash's orphan): not an object yet
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "run_id=r9").mkdir(parents=True)
    (elsewhere / "run_id=r9" / "body.csv").write_bytes(b"x")
    os.symlink(elsewhere, os.path.join(day, "symbol=LNK"))
    locked = os.path.join(day, "symbol=BBB")
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):  # root reads it anyway: only the first two hold here
            expected_bbb = ["raw/daily/ingest_date=2024-12-02/symbol=BBB/run_id=r1/body.csv"]
        else:
            expected_bbb = []
        assert lake.list_keys("raw/daily/ingest_date=2024-12-02/") == [
            "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r1/body.csv",
            "raw/daily/ingest_date=2024-12-02/symbol=AAA/run_id=r2/body.csv",
            *expected_bbb,
        ]
    finally:
        os.chmod(locked, 0o755)
