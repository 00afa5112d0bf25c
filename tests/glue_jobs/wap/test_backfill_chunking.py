"""A backfill touching more than 100 partitions: Athena writes at most 100 partitions per
statement (HIVE_TOO_MANY_OPEN_PARTITIONS) and Glue's batch partition calls take at most 100 entries, so
publish writes one partition per statement and switches the catalog in chunks of at most 100.

Proved on the AWS adapters (AthenaEngine with a stand-in Athena that writes what an UNLOAD would,
moto for S3 and Glue, every Glue call's batch size counted), and end to end on DuckDB with the
limit forced down by the `max_partitions_per_statement` setting."""
from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.adapters.aws.athena_engine import AthenaEngine
from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import layout, merge_plan, tables, trading_calendar
from glue_jobs.lake.context import RunContext
from glue_jobs.ops import rollback
from glue_jobs.ports.catalog import Partition
from glue_jobs.ports.storage import put_json
from glue_jobs.runtime import local_context
from glue_jobs.wap import publish
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

REGION = "us-east-1"
BUCKET = "tickerlake-backfill-test"
RUN = "20261120T230000Z-backfl"


class UnloadAthena:
    """Stands in for Athena's API: an UNLOAD succeeds and leaves a Parquet file at its
    TO location (one row naming the partition its WHERE asked for); everything is logged."""

    def __init__(self, s3):
        self.s3 = s3
        self.statements: list[str] = []
        self._ids = itertools.count(1)

    def start_query_execution(self, QueryString, **_):  # noqa: N803 (boto3's names)
        self.statements.append(QueryString)
        target = re.search(r"^TO 's3://([^/]+)/(.+?)'", QueryString, re.MULTILINE)
        if target:
            year = int(re.search(r"trade_year = (\d+)", QueryString).group(1))
            buffer = io.BytesIO()
            pq.write_table(pa.table({"symbol": ["AAA"], "trade_year": [year]}), buffer)
            self.s3.put_object(Bucket=target.group(1), Key=target.group(2) + "part-0.parquet",
                               Body=buffer.getvalue())
        return {"QueryExecutionId": f"q{next(self._ids)}"}

    def get_query_execution(self, QueryExecutionId):  # noqa: N803
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        glue = boto3.client("glue", region_name=REGION)
        glue.create_database(DatabaseInput={"Name": "stocks"})
        yield s3, glue


def count_batches(glue) -> dict[str, list[int]]:
    """Entries per Glue batch partition call, by operation."""
    sizes: dict[str, list[int]] = {}

    def count(params, model, **_):
        entries = params.get("Entries") or params.get("PartitionInputList") or params.get("PartitionsToDelete")
        sizes.setdefault(model.name, []).append(len(entries))

    for op in ("BatchUpdatePartition", "BatchCreatePartition", "BatchDeletePartition"):
        glue.meta.events.register(f"before-parameter-build.glue.{op}", count)
    return sizes


def test_a_150_year_backfill_publishes_on_athena_and_glue_in_chunks_of_at_most_100(aws):
    s3, glue = aws
    storage = S3Storage(BUCKET, "lake", client=s3)
    catalog = GlueCatalog(storage.root, client=glue)
    athena = UnloadAthena(s3)
    engine = AthenaEngine(workgroup="tickerlake", storage=storage, client=athena,
                          sleep=lambda s: None)
    ctx = RunContext(RUN, dt.date(2026, 11, 20), storage, catalog, engine, None, {})  # type: ignore[arg-type]
    years = [str(y) for y in range(1875, 2025)]
    put_json(storage, layout.audit_marker_key(RUN), {
        "run_id": RUN, "passed": True, "ingest_run_ids": ["i1"],
        "good_rows_by_year": {y: 10 for y in years}, "quarantined_rows_by_year": {}})
    sizes = count_batches(glue)

    result = publish.run(ctx)

    assert result["partitions_written"] == 150
    writes = [s for s in athena.statements if s.startswith("UNLOAD")]
    assert len(writes) == 150
    assert all(len(set(re.findall(r"trade_year = (\d+)", s))) == 1 for s in writes)  # one partition each
    assert not any("partitioned_by" in s for s in writes)
    assert sizes["BatchUpdatePartition"] == [100, 50]  # every one new: tried as an update, then created
    assert sizes["BatchCreatePartition"] == [100, 50]
    registered = {p.values["trade_year"]: p.location for p in catalog.list_partitions("stocks", "daily_prices")}
    assert sorted(registered) == years
    assert registered["1875"] == f"warehouse/daily_prices/trade_year=1875/v={RUN}/"
    assert all(storage.list_keys(loc) for loc in registered.values())

    # rolling the backfill back is chunked the same way: 150 empty versions in two batches
    sizes.clear()
    rb = RunContext("20261121T000000Z-rb0001", dt.date(2026, 11, 20), storage, catalog, None, None, {})  # type: ignore[arg-type]
    summary = rollback.run(rb, RUN)
    assert summary["partitions_switched"] == 150
    assert sizes["BatchUpdatePartition"] == [100, 50]


def test_glue_partition_calls_never_take_more_than_their_limits(aws):
    _, glue = aws
    catalog = GlueCatalog(f"s3://{BUCKET}/lake", client=glue)
    catalog.create_table(tables.daily_prices())
    sizes = count_batches(glue)
    parts = [Partition({"trade_year": str(y)}, f"warehouse/daily_prices/trade_year={y}/v=R1/") for y in range(1800, 2050)]
    catalog.add_partitions("stocks", "daily_prices", parts)
    catalog.switch_partitions("stocks", "daily_prices",
                              [Partition(p.values, p.location.replace("v=R1", "v=R2")) for p in parts])
    catalog.drop_partitions("stocks", "daily_prices", [p.values for p in parts[:60]])
    assert sizes == {"BatchCreatePartition": [100, 100, 50], "BatchUpdatePartition": [100, 100, 50],
                     "BatchDeletePartition": [25, 25, 10]}
    assert len(catalog.list_partitions("stocks", "daily_prices")) == 190


class SwitchSpy:
    """Wraps a catalog and records how many partitions each switch call carried."""

    def __init__(self, catalog):
        self._catalog = catalog
        self.switches: list[tuple[str, int]] = []

    def switch_partitions(self, database, name, partitions):
        self.switches.append((name, len(partitions)))
        return self._catalog.switch_partitions(database, name, partitions)

    def __getattr__(self, attr):
        return getattr(self._catalog, attr)


def test_a_twelve_year_backfill_on_duckdb_with_the_limit_forced_to_5(tmp_path):
    as_of = dt.date(2024, 3, 8)
    ctx = local_context(tmp_path / "lake", run_id="20240308T230000Z-aaaaaa", as_of=as_of,
                        settings={"max_partitions_per_statement": 5})
    spy = SwitchSpy(ctx.catalog)
    ctx.catalog = spy
    ctx.engine.catalog = spy
    sessions = [d for d in trading_calendar.last_sessions(as_of, 3000) if d.year >= 2013]
    land(ctx.storage, run_id="20240308T220000Z-i1", ingest_date=as_of.isoformat(),
         bodies={s: csv_body(bars(s, sessions)) for s in ("AAA", "BBB")})

    results = run_wap(ctx)

    assert results["publish"]["partitions_written"] == 12
    assert [n for name, n in spy.switches if name == "daily_prices"] == [5, 5, 2]
    years = ctx.engine.query("select trade_year, count(*) as n from stocks.daily_prices "
                             "group by trade_year order by trade_year").to_pylist()
    expected = {}
    for d in sessions:
        expected[d.year] = expected.get(d.year, 0) + 2
    assert {r["trade_year"]: r["n"] for r in years} == expected
    assert merge_plan.max_partitions({"max_partitions_per_statement": 5}) == 5
    with pytest.raises(ValueError, match="1..100"):
        merge_plan.max_partitions({"max_partitions_per_statement": 101})
