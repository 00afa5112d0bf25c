"""The read side on the AWS adapter: the function-URL handler as the stack configures it
(TICKERLAKE_LAKE, TICKERLAKE_SERVING_TABLE), and rebuild + verify into DynamoDB under moto with
DynamoDB's rules moto does not enforce (25-item batches: tests/support/dynamodb_contract.py)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from glue_jobs.adapters.aws.serving_dynamodb import DynamoServingTable
from glue_jobs.ports.serving import Bar
from glue_jobs.runtime import open_runtime
from glue_jobs.serve import consistency, rebuild
from tests.support.dynamodb_contract import MAX_BATCH, TABLE
from workflows.cli.main import main
from workflows.entry import serve_http


@pytest.fixture(scope="module")
def published_lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("serve-ddb") / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "AAPL,MSFT", "--date", "2024-01-10",
                 "--start", "2023-11-20", "--no-dashboard"]) == 0
    return lake


def url_event(path, query=""):
    return {"version": "2.0", "rawPath": path, "rawQueryString": query,
            "requestContext": {"http": {"method": "GET", "path": path}}}


def test_rebuild_and_verify_into_dynamodb_in_batches_of_at_most_25(published_lake, dynamodb_contract):
    runtime = open_runtime(str(published_lake))
    table = DynamoServingTable(TABLE, client=dynamodb_contract.client, sleep=lambda s: None)
    result = rebuild.rebuild(runtime.storage, runtime.catalog, table, version="29990101T000000Z-rebuil")
    assert result.written == result.rows_read > MAX_BATCH
    assert dynamodb_contract.batch_sizes and max(dynamodb_contract.batch_sizes) <= MAX_BATCH
    assert consistency.verify(runtime.storage, runtime.catalog, table).equal
    again = rebuild.rebuild(runtime.storage, runtime.catalog, table, version="29990102T000000Z-rebuil")
    assert (again.written, again.deleted, again.unchanged) == (0, 0, result.rows_read)


def test_the_function_url_handler_reads_dynamodb_as_the_stack_configures_it(aws, dynamodb_contract, monkeypatch):
    table = DynamoServingTable(TABLE, client=dynamodb_contract.client, sleep=lambda s: None)
    table.put_bars([Bar("AAPL", f"2024-01-{d:02d}", Decimal("185.64"), Decimal("186.1"), Decimal("184.0"),
                        Decimal("185.07"), 1000 + d, "20240110T215900Z-ingest", "20240110T220000Z-aaaaaa")
                    for d in (2, 3, 4, 5)])
    monkeypatch.setenv("TICKERLAKE_LAKE", "s3://tickerlake-test-lake")
    monkeypatch.setenv("TICKERLAKE_SERVING_TABLE", TABLE)
    monkeypatch.setattr(serve_http, "_runtime", None)  # a fresh container
    resp = serve_http.handler(url_event("/bars/AAPL", "from=2024-01-03&last=2"), None)
    assert resp["statusCode"] == 200, resp["body"]
    rows = json.loads(resp["body"], parse_float=Decimal)
    assert [(r["trade_date"], r["close"], r["volume"]) for r in rows] == [
        ("2024-01-04", Decimal("185.07"), 1004), ("2024-01-05", Decimal("185.07"), 1005)]
    assert '"open": 185.64,' in resp["body"]  # the exact decimal DynamoDB holds, as a JSON number
    assert serve_http.handler(url_event("/bars/MSFT"), None)["statusCode"] == 404
