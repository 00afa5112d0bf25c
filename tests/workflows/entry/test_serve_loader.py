"""The serving loader Lambda on moto S3: a lake under a prefix with `=` in it (S3 events
URL-encode keys: `=` arrives as `%3D`), a batch where one message is good, one names a missing
manifest and one a malformed one: only the two bad ones come back as batchItemFailures, and
the good one's bars are in the serving table (the real SQLite one: DynamoDB's adapter has its
own contract suite)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa
import pytest

from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.lake import layout, parquet, published_manifest, tables
from glue_jobs.ports.serving import Bar
from tests.support.aws import BUCKET
from workflows.entry import serve_loader

RUN = "20240105T230000Z-bbbbbb"
PREFIX = "env=test"  # a lake under a prefix with `=`: its keys reach the loader as env%3Dtest/...


@dataclass
class _Runtime:
    storage: Any
    serving: Any


def _partition(storage, location: str, rows: list[tuple]) -> None:
    schema = parquet.schema_of(tables.daily_prices().columns)
    data = {name: [] for name in schema.names}
    for symbol, day, close in rows:
        data["symbol"].append(symbol)
        data["trade_date"].append(dt.date.fromisoformat(day))
        for c in ("open", "high", "low"):
            data[c].append(close)
        data["close"].append(close)
        data["volume"].append(1000)
        if "fetched_at" in data:
            data["fetched_at"].append(dt.datetime(2024, 1, 5, 22, tzinfo=dt.timezone.utc))
        data["ingest_run_id"].append("20240105T220000Z-ing001")
    parquet.write_table(storage, f"{location}part-00000.parquet", pa.table(data, schema=schema))


def _sqs_record(message_id: str, key: str) -> dict:
    """An SQS record carrying EventBridge's Object Created event, the key encoded as S3 does."""
    body = {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key, safe="/")}}}
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": json.dumps(body),
            "eventSource": "aws:sqs", "attributes": {"ApproximateReceiveCount": "1"}}


@pytest.fixture
def lake(s3, tmp_path):
    storage = S3Storage(BUCKET, PREFIX, client=s3)
    old = layout.partition_version_prefix("daily_prices", {"trade_year": "2024"}, "20240104T230000Z-aaaaaa")
    new = layout.partition_version_prefix("daily_prices", {"trade_year": "2024"}, RUN)
    _partition(storage, old, [("AAA", "2024-01-03", 10.1), ("AAA", "2024-01-04", 10.2), ("ZZZ", "2024-01-04", 5.0)])
    _partition(storage, new, [("AAA", "2024-01-03", 10.1), ("AAA", "2024-01-04", 10.25), ("AAA", "2024-01-05", 0.1)])
    manifest = published_manifest.build(RUN, {"2024": (new, old)})
    storage.put_bytes(layout.published_manifest_key(RUN), published_manifest.to_bytes(manifest))
    storage.put_bytes(layout.published_manifest_key("20240106T000000Z-broken"), b'{"run_id": ')
    serving = SqliteServingTable(tmp_path / "bars.sqlite")
    serving.put_bars([])  # create it
    return _Runtime(storage, serving)


def test_serve_loader_reports_only_the_bad_messages_and_loads_the_good_one(lake):
    good = _sqs_record("m-good", f"{PREFIX}/{layout.published_manifest_key(RUN)}")
    missing = _sqs_record("m-missing", f"{PREFIX}/{layout.published_manifest_key('20240107T000000Z-gone')}")
    broken = _sqs_record("m-broken", f"{PREFIX}/{layout.published_manifest_key('20240106T000000Z-broken')}")
    assert "%3D" in good["body"]
    older = "20240104T230000Z-aaaaaa"
    lake.serving.put_bars([Bar("ZZZ", "2024-01-04", *(Decimal("5.0"),) * 4, 1000, "i", older)])

    answer = serve_loader.handler({"Records": [missing, good, broken]}, None, runtime=lake)

    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m-broken", "m-missing"]
    got = {(b.trade_date, b.close, b.version) for b in lake.serving.get_bars("AAA")}
    # 01-03 is unchanged by the switch (not rewritten), 01-04 changed, 01-05 is new
    assert got == {("2024-01-04", Decimal("10.25"), RUN), ("2024-01-05", Decimal("0.1"), RUN)}
    assert lake.serving.get_bars("ZZZ") == []  # only in the previous version: deleted


def test_serve_loader_replaying_a_batch_changes_nothing(lake):
    batch = {"Records": [_sqs_record("m1", f"{PREFIX}/{layout.published_manifest_key(RUN)}")]}
    assert serve_loader.handler(batch, None, runtime=lake) == {"batchItemFailures": []}
    before = lake.serving.get_bars("AAA")
    assert serve_loader.handler(batch, None, runtime=lake) == {"batchItemFailures": []}
    assert lake.serving.get_bars("AAA") == before


def test_serve_loader_without_its_lake_fails_every_message_with_one_line(monkeypatch, caplog):
    monkeypatch.delenv(serve_loader.ENV_LAKE, raising=False)
    answer = serve_loader.handler({"Records": [_sqs_record("m1", "manifests/published/x.json")]}, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert any("TICKERLAKE_LAKE" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)
