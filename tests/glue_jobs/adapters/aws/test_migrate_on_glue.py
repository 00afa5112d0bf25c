"""The ingest_run_id migration through the Glue catalog (moto): the raw table's partition key
is renamed in the table definition and every registered partition keeps its values, by
position, and its location; nothing in S3 is touched. (Athena, which rewrites daily_prices,
has no moto: that half runs through the same ports but is tested on the local engine.)"""
from __future__ import annotations

import dataclasses
import datetime as dt

from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.adapters.log_notifier import LogNotifier
from glue_jobs.lake import migrate, tables
from glue_jobs.lake.context import RunContext
from glue_jobs.ports.catalog import Column, Partition
from tests.support.aws import BUCKET

ROOT = f"s3://{BUCKET}/lake"


def test_the_raw_tables_key_is_renamed_in_glue_and_its_partitions_stay(glue, s3):
    catalog = GlueCatalog(ROOT, client=glue)
    old = dataclasses.replace(tables.raw_daily(), partition_keys=[Column(k, "string") for k in migrate.OLD_RAW_KEYS])
    catalog.create_table(old)
    parts = [Partition({"ingest_date": d, "symbol": s, "run_id": r}, f"raw/daily/ingest_date={d}/symbol={s}/run_id={r}/")
             for d, s, r in (("2026-01-07", "AAPL", "r1"), ("2026-01-07", "IBM", "r1"), ("2026-01-08", "AAPL", "r2"))]
    catalog.add_partitions("stocks", "raw_daily", parts)
    ctx = RunContext("20261201T000000Z-glue01", dt.date(2026, 1, 9), S3Storage(BUCKET, "lake", client=s3), catalog,
                     engine=None, notifier=LogNotifier())  # type: ignore[arg-type]
    assert migrate.pending(ctx)

    done = migrate.run(ctx)

    assert done == {"raw_daily": {"partition_key_renamed": "run_id -> ingest_run_id", "partitions_kept": 3}}
    assert catalog.get_table("stocks", "raw_daily") == tables.raw_daily()
    got = catalog.list_partitions("stocks", "raw_daily", where={"ingest_run_id": {"r1"}})
    assert [(p.values, p.location) for p in got] == [
        ({"ingest_date": d, "symbol": s, "ingest_run_id": r}, f"raw/daily/ingest_date={d}/symbol={s}/run_id={r}/")
        for d, s, r in (("2026-01-07", "AAPL", "r1"), ("2026-01-07", "IBM", "r1"))]
    assert migrate.pending(ctx) == [] and migrate.run(ctx) == {}
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
