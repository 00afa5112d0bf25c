import json

import pytest

from glue_jobs.adapters.local.catalog import LocalCatalog, table_to_dict
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import layout, tables
from glue_jobs.ports.catalog import CatalogError, Column, Partition


@pytest.fixture
def catalog(tmp_path):
    storage = LocalStorage(tmp_path)
    cat = LocalCatalog(storage)
    cat.create_table(tables.daily_prices())
    return cat


def _p(year, version):
    return Partition({"trade_year": str(year)}, f"warehouse/daily_prices/trade_year={year}/v={version}/")


def test_tables_round_trip_and_duplicates_need_replace(catalog):
    assert catalog.get_table("stocks", "daily_prices") == tables.daily_prices()
    assert catalog.list_tables("stocks") == ["daily_prices"]
    with pytest.raises(CatalogError, match="already exists"):
        catalog.create_table(tables.daily_prices())
    catalog.add_partitions("stocks", "daily_prices", [_p(2024, "a")])
    catalog.create_table(tables.daily_prices(), replace=True)
    assert catalog.list_partitions("stocks", "daily_prices") == [_p(2024, "a")]
    catalog.drop_table("stocks", "daily_prices")
    catalog.drop_table("stocks", "daily_prices")  # missing: ignored
    assert catalog.get_table("stocks", "daily_prices") is None


def test_adding_keeps_registered_locations_switching_replaces_them(catalog):
    catalog.add_partitions("stocks", "daily_prices", [_p(2024, "a"), _p(2023, "a")])
    catalog.add_partitions("stocks", "daily_prices", [_p(2024, "b")])
    assert [p.location for p in catalog.list_partitions("stocks", "daily_prices")] == [
        _p(2023, "a").location, _p(2024, "a").location]
    catalog.switch_partitions("stocks", "daily_prices", [_p(2024, "b"), _p(2025, "b")])
    assert [p.location for p in catalog.list_partitions("stocks", "daily_prices")] == [
        _p(2023, "a").location, _p(2024, "b").location, _p(2025, "b").location]
    catalog.drop_partitions("stocks", "daily_prices", [{"trade_year": "2023"}, {"trade_year": "1999"}])
    assert [p.values["trade_year"] for p in catalog.list_partitions("stocks", "daily_prices")] == ["2024", "2025"]


def test_a_switch_is_one_atomic_write_so_a_crash_leaves_every_partition_on_its_old_version(catalog, monkeypatch):
    catalog.add_partitions("stocks", "daily_prices", [_p(2023, "a"), _p(2024, "a")])
    before = catalog.list_partitions("stocks", "daily_prices")
    writes = []
    real_put = catalog.storage.put_bytes

    def dying_put(key, data, **kw):
        if "/history/" in key:  # the history is written first; the document is the switch
            return real_put(key, data, **kw)
        writes.append(key)
        raise OSError("disk gone mid-switch")

    monkeypatch.setattr(catalog.storage, "put_bytes", dying_put)
    with pytest.raises(OSError, match="disk gone mid-switch"):
        catalog.switch_partitions("stocks", "daily_prices", [_p(2023, "b"), _p(2024, "b")])
    assert writes == [layout.catalog_key("stocks", "daily_prices")]  # both partitions, one write
    monkeypatch.setattr(catalog.storage, "put_bytes", real_put)
    assert catalog.list_partitions("stocks", "daily_prices") == before


def test_a_partition_must_match_the_partition_keys(catalog):
    with pytest.raises(CatalogError, match="does not match the table's partition keys"):
        catalog.add_partitions("stocks", "daily_prices", [Partition({"year": "2024"}, "x/")])


def test_partition_columns_are_kept_when_a_partition_drifts(tmp_path):
    cat = LocalCatalog(LocalStorage(tmp_path))
    cat.create_table(tables.raw_daily())
    drifted = Partition({"ingest_date": "2024-03-08", "symbol": "IBM", "ingest_run_id": "r1"},
                        "raw/daily/ingest_date=2024-03-08/symbol=IBM/run_id=r1/",
                        [Column("timestamp", "string"), Column("close", "string")])
    cat.add_partitions("stocks", "raw_daily", [drifted])
    assert cat.list_partitions("stocks", "raw_daily") == [drifted]


def test_the_version_token_changes_with_every_change(catalog):
    v1 = catalog.table_version("stocks", "daily_prices")
    catalog.switch_partitions("stocks", "daily_prices", [_p(2024, "a")])
    v2 = catalog.table_version("stocks", "daily_prices")
    assert v1 != v2 and catalog.table_version("stocks", "daily_prices") == v2
    assert catalog.table_version("stocks", "nope") is None


def test_an_unreadable_document_names_itself(catalog):
    catalog.storage.put_bytes(layout.catalog_key("stocks", "daily_prices"), b"{not json")
    with pytest.raises(CatalogError, match="is not JSON"):
        catalog.get_table("stocks", "daily_prices")


def test_partitions_are_listed_by_the_values_a_caller_allows(tmp_path):
    catalog = LocalCatalog(LocalStorage(tmp_path))
    catalog.create_table(tables.raw_daily())
    parts = [Partition({"ingest_date": d, "symbol": s, "ingest_run_id": r}, f"raw/daily/ingest_date={d}/symbol={s}/run_id={r}/")
             for d, r in (("2024-03-07", "r1"), ("2024-03-08", "r2")) for s in ("IBM", "XOM")]
    catalog.add_partitions("stocks", "raw_daily", parts)
    assert catalog.list_partitions("stocks", "raw_daily", where={"ingest_date": ["2024-03-08"]}) == parts[2:]
    assert catalog.list_partitions("stocks", "raw_daily", where={"ingest_run_id": {"r1"}, "symbol": {"XOM"}}) == [parts[1]]
    assert catalog.list_partitions("stocks", "raw_daily", where={"ingest_run_id": set()}) == []
    assert catalog.list_partitions("stocks", "raw_daily") == parts


# -- a table partitioned by several keys (the raw table) keeps a shard per first-key value ----


def _raw(day: str, symbol: str, run_id: str = "r1", columns=None) -> Partition:
    return Partition({"ingest_date": day, "symbol": symbol, "ingest_run_id": run_id},
                     f"raw/daily/ingest_date={day}/symbol={symbol}/run_id={run_id}/", columns)


class _Counting(LocalStorage):
    def __init__(self, root):
        super().__init__(root)
        self.read, self.written = [], []

    def get_bytes(self, key):
        self.read.append(key)
        return super().get_bytes(key)

    def put_bytes(self, key, data, **kw):
        self.written.append(key)
        return super().put_bytes(key, data, **kw)


def _raw_catalog(tmp_path):
    storage = _Counting(tmp_path)
    catalog = LocalCatalog(storage)
    catalog.create_table(tables.raw_daily())
    return storage, catalog


def test_a_day_of_the_raw_table_is_read_and_written_without_its_history(tmp_path):
    storage, catalog = _raw_catalog(tmp_path)
    days = [f"2024-03-{d:02d}" for d in range(1, 11)]
    for day in days:
        catalog.add_partitions("stocks", "raw_daily", [_raw(day, s) for s in ("IBM", "XOM")])
    storage.read.clear(), storage.written.clear()
    fresh = LocalCatalog(storage)  # another process: nothing cached
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-11", "IBM")])
    mine = fresh.list_partitions("stocks", "raw_daily", where={"ingest_date": {"2024-03-11"}, "ingest_run_id": {"r1"}})
    assert mine == [_raw("2024-03-11", "IBM")]
    shards_touched = {k for k in storage.read + storage.written if "/partitions/" in k}
    assert shards_touched and all("ingest_date=2024-03-11/" in k for k in shards_touched)
    # the table's own document names the shards, it does not list the history's partitions
    doc = storage.get_bytes(layout.catalog_key("stocks", "raw_daily"))
    assert len(doc) < 2000 and b"symbol=IBM" not in doc
    assert [p.values["ingest_date"] for p in fresh.list_partitions("stocks", "raw_daily")] == sorted(
        [d for d in days for _ in (0, 1)] + ["2024-03-11"])


def test_a_switch_over_several_days_is_still_one_atomic_document_write(tmp_path, monkeypatch):
    storage, catalog = _raw_catalog(tmp_path)
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-07", "IBM"), _raw("2024-03-08", "IBM")])
    before = catalog.list_partitions("stocks", "raw_daily")
    real_put = storage.put_bytes

    def dying_on_the_document(key, data, **kw):
        if key == layout.catalog_key("stocks", "raw_daily"):
            raise OSError("disk gone mid-switch")
        return real_put(key, data, **kw)

    monkeypatch.setattr(storage, "put_bytes", dying_on_the_document)
    moved = [Partition(p.values, p.location.replace("raw/daily/", "raw/moved/")) for p in before]
    with pytest.raises(OSError, match="disk gone mid-switch"):
        catalog.switch_partitions("stocks", "raw_daily", moved)
    assert LocalCatalog(LocalStorage(tmp_path)).list_partitions("stocks", "raw_daily") == before
    monkeypatch.setattr(storage, "put_bytes", real_put)
    catalog.switch_partitions("stocks", "raw_daily", moved)
    assert LocalCatalog(LocalStorage(tmp_path)).list_partitions("stocks", "raw_daily") == moved


def test_drops_drift_columns_and_redefinitions_survive_in_shards(tmp_path):
    storage, catalog = _raw_catalog(tmp_path)
    drifted = _raw("2024-03-08", "XOM", columns=[Column("timestamp", "string"), Column("close", "string")])
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-07", "IBM"), _raw("2024-03-08", "IBM"), drifted])
    catalog.drop_partitions("stocks", "raw_daily", [_raw("2024-03-07", "IBM").values])
    catalog.create_table(tables.raw_daily(), replace=True)  # a new definition keeps the partitions
    assert LocalCatalog(LocalStorage(tmp_path)).list_partitions("stocks", "raw_daily") == [
        _raw("2024-03-08", "IBM"), drifted]
    # of a day's shards only the current one and the one it replaced stay
    for n in range(4):
        catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-08", f"S{n}")])
    assert len(storage.list_keys("catalog/stocks/raw_daily/partitions/ingest_date=2024-03-08/")) == 2
    doc = json.loads(storage.get_bytes(layout.catalog_key("stocks", "raw_daily")))
    assert sorted(doc["shards"]) == ["2024-03-08"]  # the emptied day is gone from the document
    catalog.drop_table("stocks", "raw_daily")
    assert storage.list_keys("catalog/stocks/") == []


def test_a_raw_table_document_from_before_shards_is_read_and_moved_to_shards_at_its_next_change(tmp_path):
    storage, catalog = _raw_catalog(tmp_path)
    old = [_raw("2024-03-07", "IBM"), _raw("2024-03-08", "IBM")]
    storage.put_bytes(layout.catalog_key("stocks", "raw_daily"), json.dumps({
        "format_version": 1, "table": table_to_dict(tables.raw_daily()),
        "partitions": [{"values": p.values, "location": p.location} for p in old]}).encode())
    catalog = LocalCatalog(storage)
    assert catalog.list_partitions("stocks", "raw_daily", where={"ingest_date": ["2024-03-08"]}) == old[1:]
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-09", "IBM")])
    doc = json.loads(storage.get_bytes(layout.catalog_key("stocks", "raw_daily")))
    assert "partitions" not in doc and sorted(doc["shards"]) == ["2024-03-07", "2024-03-08", "2024-03-09"]
    assert LocalCatalog(storage).list_partitions("stocks", "raw_daily") == [*old, _raw("2024-03-09", "IBM")]


def test_a_missing_shard_is_named_with_what_to_do(tmp_path):
    storage, catalog = _raw_catalog(tmp_path)
    catalog.add_partitions("stocks", "raw_daily", [_raw("2024-03-08", "IBM")])
    storage.delete(storage.list_keys("catalog/stocks/raw_daily/partitions/"))
    with pytest.raises(CatalogError, match=r"catalog shard .*ingest_date=2024-03-08.* of stocks.raw_daily .*doctor --repair"):
        LocalCatalog(storage).list_partitions("stocks", "raw_daily")
