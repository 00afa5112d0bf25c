from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.lake import tables
from glue_jobs.ports.catalog import CatalogError, Column, Partition, TableDef

ROOT = "s3://tickerlake-test-lake/lake"

COLUMNS = [Column("symbol", "string"), Column("trade_date", "date"), Column("close", "double"),
           Column("volume", "bigint")]


def prices_table() -> TableDef:
    return tables.daily_prices()


def year(y: int, version: str) -> Partition:
    return Partition({"trade_year": str(y)}, f"warehouse/daily_prices/trade_year={y}/v={version}/")


def test_created_table_reads_back_with_lake_keys_and_s3_locations_in_glue(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    assert catalog.get_table("stocks", "daily_prices") == prices_table()
    raw = glue.get_table(DatabaseName="stocks", Name="daily_prices")["Table"]
    assert raw["StorageDescriptor"]["Location"] == f"{ROOT}/warehouse/daily_prices/"
    assert "Parquet" in raw["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert [c["Name"] for c in raw["PartitionKeys"]] == ["trade_year"]
    assert catalog.list_tables("stocks") == ["daily_prices"]


def test_creating_an_existing_table_needs_replace(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    with pytest.raises(CatalogError, match="stocks.daily_prices already exists"):
        catalog.create_table(prices_table())
    wider = prices_table()
    wider.columns = wider.columns + [Column("source", "string")]
    catalog.create_table(wider, replace=True)
    assert catalog.get_table("stocks", "daily_prices") == wider


def test_a_csv_table_keeps_its_header_skip_for_athena(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(tables.raw_daily())
    assert catalog.get_table("stocks", "raw_daily") == tables.raw_daily()
    raw = glue.get_table(DatabaseName="stocks", Name="raw_daily")["Table"]
    assert raw["Parameters"]["skip.header.line.count"] == "1"
    assert raw["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == ","


def test_missing_table_is_none_and_dropping_it_is_harmless(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    assert catalog.get_table("stocks", "nope") is None
    catalog.drop_table("stocks", "nope")
    with pytest.raises(CatalogError, match="stocks.nope does not exist"):
        catalog.list_partitions("stocks", "nope")


def test_add_partitions_keeps_registered_locations(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    catalog.add_partitions("stocks", "daily_prices", [year(2025, "r1"), year(2026, "r1")])
    catalog.add_partitions("stocks", "daily_prices", [year(2026, "r2"), year(2024, "r2")])
    assert catalog.list_partitions("stocks", "daily_prices") == [year(2024, "r2"), year(2025, "r1"), year(2026, "r1")]


def test_switch_moves_a_partition_to_its_new_location_and_creates_absent_ones(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    catalog.add_partitions("stocks", "daily_prices", [year(2025, "r1"), year(2026, "r1")])
    catalog.switch_partitions("stocks", "daily_prices", [year(2026, "r2"), year(2027, "r2")])
    assert catalog.list_partitions("stocks", "daily_prices") == [year(2025, "r1"), year(2026, "r2"), year(2027, "r2")]
    glue_partition = glue.get_partition(DatabaseName="stocks", TableName="daily_prices", PartitionValues=["2026"])
    assert glue_partition["Partition"]["StorageDescriptor"]["Location"] == (
        f"{ROOT}/warehouse/daily_prices/trade_year=2026/v=r2/"
    )


def test_many_partitions_are_added_listed_and_dropped_in_api_sized_batches(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    parts = [year(y, "r1") for y in range(1900, 2150)]  # Glue takes 100 per create, 25 per delete
    catalog.add_partitions("stocks", "daily_prices", parts)
    assert catalog.list_partitions("stocks", "daily_prices") == parts
    catalog.drop_partitions("stocks", "daily_prices", [p.values for p in parts[:30]] + [{"trade_year": "1"}])
    assert catalog.list_partitions("stocks", "daily_prices") == parts[30:]


def test_partition_values_must_match_the_partition_keys(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(prices_table())
    with pytest.raises(CatalogError, match="partition keys"):
        catalog.switch_partitions("stocks", "daily_prices", [Partition({"year": "2026"}, "warehouse/x/")])


def test_a_partial_batch_update_names_the_partition_that_did_not_switch():
    """BatchUpdatePartition succeeds per entry; moto never fails an entry for a reason other
    than 'not found', so Glue's answer is stubbed here."""
    client = boto3.client("glue", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    catalog = GlueCatalog(ROOT, client=client)
    glue_table = {
        "Name": "daily_prices",
        "DatabaseName": "stocks",
        "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {
            "Columns": [{"Name": c.name, "Type": c.type} for c in COLUMNS],
            "Location": f"{ROOT}/warehouse/daily_prices/",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
        "PartitionKeys": [{"Name": "trade_year", "Type": "int"}],
    }
    with Stubber(client) as stub:
        stub.add_response("get_table", {"Table": glue_table})
        stub.add_response(
            "batch_update_partition",
            {"Errors": [{"PartitionValueList": ["2026"],
                         "ErrorDetail": {"ErrorCode": "ConcurrentModificationException",
                                         "ErrorMessage": "Update table failed due to concurrent modifications."}}]},
        )
        with pytest.raises(CatalogError) as info:
            catalog.switch_partitions("stocks", "daily_prices", [year(2025, "r2"), year(2026, "r2")])
    message = str(info.value)
    assert "1 of 2" in message
    assert "trade_year=2026: ConcurrentModificationException" in message
    assert "trade_year=2025" not in message


def _raw_partition(day: str, symbol: str, run_id: str) -> Partition:
    return Partition({"ingest_date": day, "symbol": symbol, "ingest_run_id": run_id},
                     f"raw/daily/ingest_date={day}/symbol={symbol}/run_id={run_id}/")


def test_a_run_lists_its_own_raw_partitions_through_a_glue_expression(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(tables.raw_daily())
    history = [_raw_partition(f"2024-03-{d:02d}", s, f"r{d}") for d in range(1, 9) for s in ("IBM", "O'NEIL")]
    catalog.add_partitions("stocks", "raw_daily", history)
    sent = []
    glue.meta.events.register("provide-client-params.glue.GetPartitions", lambda params, **_: sent.append(dict(params)))
    mine = catalog.list_partitions("stocks", "raw_daily", where={"ingest_date": {"2024-03-08"}, "ingest_run_id": {"r8"}})
    assert [(p.values["symbol"], p.values["ingest_run_id"]) for p in mine] == [("IBM", "r8"), ("O'NEIL", "r8")]
    assert sent[-1]["Expression"] == "ingest_date IN ('2024-03-08') AND ingest_run_id IN ('r8')"
    assert catalog.list_partitions("stocks", "raw_daily", where={"symbol": {"O'NEIL"}, "ingest_run_id": {"r1", "r2"}}) == [
        history[1], history[3]]
    assert len(catalog.list_partitions("stocks", "raw_daily")) == 16


def test_a_filter_too_long_for_glue_is_applied_after_listing(glue):
    catalog = GlueCatalog(ROOT, client=glue)
    catalog.create_table(tables.raw_daily())
    catalog.add_partitions("stocks", "raw_daily", [_raw_partition("2024-03-08", s, "r1") for s in ("A", "B", "C")])
    many = {f"R{i:05d}" for i in range(400)} | {"r1"}
    sent = []
    glue.meta.events.register("provide-client-params.glue.GetPartitions", lambda params, **_: sent.append(dict(params)))
    got = catalog.list_partitions("stocks", "raw_daily", where={"ingest_run_id": many, "symbol": {"B"}})
    assert [p.values["symbol"] for p in got] == ["B"]
    assert "Expression" not in sent[-1]
