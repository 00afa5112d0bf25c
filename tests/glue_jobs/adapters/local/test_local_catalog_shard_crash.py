"""A crash while the local catalog writes a shard of a sharded table (the raw table) leaves
the table readable, with exactly the partitions it had: shards are written first, then the
one document that switches to them."""
import pytest

from glue_jobs.adapters.local.catalog import LocalCatalog
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import tables
from glue_jobs.ports.catalog import Partition


def _raw(day: str, symbol: str, run_id: str = "r1") -> Partition:
    return Partition({"ingest_date": day, "symbol": symbol, "ingest_run_id": run_id},
                     f"raw/daily/ingest_date={day}/symbol={symbol}/run_id={run_id}/")


class _DyingOnShard(LocalStorage):
    """Storage whose writes of one day's shard fail, as a process killed mid-write would."""

    def __init__(self, root, day):
        super().__init__(root)
        self.day = day

    def put_bytes(self, key, data, **kw):
        if f"/partitions/ingest_date={self.day}/" in key:
            raise OSError(f"killed while writing {key}")
        return super().put_bytes(key, data, **kw)


@pytest.mark.parametrize("dying_day", ["2024-03-08", "2024-03-11"])
def test_a_crash_writing_a_shard_leaves_the_catalog_readable_as_before(tmp_path, dying_day):
    catalog = LocalCatalog(LocalStorage(tmp_path))
    catalog.create_table(tables.raw_daily())
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-07", "IBM"), _raw("2024-03-08", "IBM")])
    before = catalog.list_partitions("stocks", "raw_daily")

    dying = LocalCatalog(_DyingOnShard(tmp_path, dying_day))
    # one change over an existing day's shard (03-08) and a new day's (03-11)
    with pytest.raises(OSError, match="killed while writing"):
        dying.add_partitions("stocks", "raw_daily", [_raw("2024-03-08", "XOM"), _raw("2024-03-11", "IBM")])

    fresh = LocalCatalog(LocalStorage(tmp_path))  # another process: nothing cached
    assert fresh.list_partitions("stocks", "raw_daily") == before
    # and the change, made again, lands whole
    fresh.add_partitions("stocks", "raw_daily", [_raw("2024-03-08", "XOM"), _raw("2024-03-11", "IBM")])
    assert LocalCatalog(LocalStorage(tmp_path)).list_partitions("stocks", "raw_daily") == sorted(
        [*before, _raw("2024-03-08", "XOM"), _raw("2024-03-11", "IBM")],
        key=lambda p: (p.values["ingest_date"], p.values["symbol"]))
