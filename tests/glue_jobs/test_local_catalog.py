import pytest

from glue_jobs import table_defs
from glue_jobs.adapters.catalog import CatalogError, Column, Partition
from glue_jobs.adapters.local_catalog import LocalCatalog
from glue_jobs.adapters.storage import LocalStorage
from glue_jobs.common import lake_layout


@pytest.fixture
def catalog(tmp_path):
    storage = LocalStorage(tmp_path)
    cat = LocalCatalog(storage)
    cat.create_table(table_defs.daily_prices())
    return cat


def _p(year, version):
    return Partition({"trade_year": str(year)}, f"warehouse/daily_prices/trade_year={year}/v={version}/")


def test_tables_round_trip_and_duplicates_need_replace(catalog):
    assert catalog.get_table("stocks", "daily_prices") == table_defs.daily_prices()
    assert catalog.list_tables("stocks") == ["daily_prices"]
    with pytest.raises(CatalogError, match="already exists"):
        catalog.create_table(table_defs.daily_prices())
    catalog.add_partitions("stocks", "daily_prices", [_p(2024, "a")])
    catalog.create_table(table_defs.daily_prices(), replace=True)
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
        writes.append(key)
        raise OSError("disk gone mid-switch")

    monkeypatch.setattr(catalog.storage, "put_bytes", dying_put)
    with pytest.raises(OSError):
        catalog.switch_partitions("stocks", "daily_prices", [_p(2023, "b"), _p(2024, "b")])
    assert writes == [lake_layout.catalog_key("stocks", "daily_prices")]  # both partitions, one write
    monkeypatch.setattr(catalog.storage, "put_bytes", real_put)
    assert catalog.list_partitions("stocks", "daily_prices") == before


def test_a_partition_must_match_the_partition_keys(catalog):
    with pytest.raises(CatalogError, match="does not match the table's partition keys"):
        catalog.add_partitions("stocks", "daily_prices", [Partition({"year": "2024"}, "x/")])


def test_partition_columns_are_kept_when_a_partition_drifts(tmp_path):
    cat = LocalCatalog(LocalStorage(tmp_path))
    cat.create_table(table_defs.raw_daily())
    drifted = Partition({"ingest_date": "2024-03-08", "symbol": "IBM", "run_id": "r1"},
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
    catalog.storage.put_bytes(lake_layout.catalog_key("stocks", "daily_prices"), b"{not json")
    with pytest.raises(CatalogError, match="is not JSON"):
        catalog.get_table("stocks", "daily_prices")


def test_partitions_are_listed_by_the_values_a_caller_allows(tmp_path):
    catalog = LocalCatalog(LocalStorage(tmp_path))
    catalog.create_table(table_defs.raw_daily())
    parts = [Partition({"ingest_date": d, "symbol": s, "run_id": r}, f"raw/daily/ingest_date={d}/symbol={s}/run_id={r}/")
             for d, r in (("2024-03-07", "r1"), ("2024-03-08", "r2")) for s in ("IBM", "XOM")]
    catalog.add_partitions("stocks", "raw_daily", parts)
    assert catalog.list_partitions("stocks", "raw_daily", where={"ingest_date": ["2024-03-08"]}) == parts[2:]
    assert catalog.list_partitions("stocks", "raw_daily", where={"run_id": {"r1"}, "symbol": {"XOM"}}) == [parts[1]]
    assert catalog.list_partitions("stocks", "raw_daily", where={"run_id": set()}) == []
    assert catalog.list_partitions("stocks", "raw_daily") == parts
