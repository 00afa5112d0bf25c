"""The janitor through S3Storage and the Glue catalog (moto): the same plan from S3 listings
(LastModified) and Glue partitions, deletions by DeleteObjects, temp tables dropped in Glue."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest

from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import tables as table_defs
from glue_jobs.ops import janitor
from glue_jobs.ports.catalog import Partition, TableDef

REGION = "us-east-1"
BUCKET = "tickerlake-janitor-test"


@pytest.fixture
def lake(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        glue = boto3.client("glue", region_name=REGION)
        glue.create_database(DatabaseInput={"Name": "stocks"})
        storage = S3Storage(BUCKET, "lake", client=s3)
        yield storage, GlueCatalog(storage.root, client=glue), glue


def test_the_janitor_cleans_an_s3_lake_through_glue(lake):
    storage, catalog, glue = lake
    prices = table_defs.daily_prices()
    catalog.create_table(prices)
    current = "warehouse/daily_prices/trade_year=2024/v=R2/"
    old = "warehouse/daily_prices/trade_year=2024/v=R1/"
    for key in (old + "part-00000.parquet", current + "part-00000.parquet",
                "raw/daily/ingest_date=2024-03-08/symbol=AAA/run_id=R2/body.csv",
                "tmp/tmp_daily_prices/run_id=DEAD/part-00000.parquet"):
        storage.put_bytes(key, b"x" * 10)
    catalog.switch_partitions("stocks", "daily_prices", [Partition({"trade_year": "2024"}, current)])
    catalog.create_table(TableDef("stocks", "tmp_daily_prices", "tmp/tmp_daily_prices/run_id=DEAD/", "parquet",
                                  list(prices.columns), properties={"wap_run_id": "DEAD"}))
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)

    dry = janitor.run(storage, catalog, dry_run=True, now=later)
    assert sorted(d["target"] for d in dry["deletions"]) == ["stocks.tmp_daily_prices", old]
    assert storage.exists(old + "part-00000.parquet")

    janitor.run(storage, catalog, dry_run=False, now=later)
    assert storage.list_keys("warehouse/") == [current + "part-00000.parquet"]
    assert storage.list_keys("tmp/") == []
    assert storage.exists("raw/daily/ingest_date=2024-03-08/symbol=AAA/run_id=R2/body.csv")
    assert catalog.list_tables("stocks") == ["daily_prices"]
    assert [p.location for p in catalog.list_partitions("stocks", "daily_prices")] == [current]
    assert not storage.exists("locks/pipeline.lock")  # released
    raw = glue.get_partitions(DatabaseName="stocks", TableName="daily_prices")["Partitions"]
    assert raw[0]["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/lake/{current}"
