"""The ingestion Lambda end to end on moto: key from Secrets Manager, bodies from the fake
Alpha Vantage server, raw objects in S3, the WAP workflow started with the run's identity."""
from __future__ import annotations

import datetime as dt
import json
import logging

import boto3
import pytest

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import NothingFetched
from glue_jobs.lake.layout import parse_hive_key
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from workflows import graph
from workflows.entry import lambda_handler

BUCKET = "tickerlake-test-lake"
WORKFLOW = "tickerlake-wap"
KEY = "LAMBDAKEY-5b8e0c41d7"


class FakeContext:
    def __init__(self, seconds: float = 900.0):
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


@pytest.fixture
def deployed(s3, monkeypatch):
    """What the stack provides: the lake bucket, the secret, the workflow and the environment."""
    clear_cache()
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secret_arn = secrets.create_secret(Name="tickerlake/alphavantage", SecretString=KEY)["ARN"]
    glue = boto3.client("glue", region_name="us-east-1")
    glue.create_workflow(Name=WORKFLOW)
    as_of = trading_calendar.latest_completed_session()
    server = FakeAlphaVantage(api_key=KEY, as_of=as_of).start()
    env = {
        "TICKERLAKE_LAKE": f"s3://{BUCKET}",
        "TICKERLAKE_SOURCE": "alphavantage",
        "TICKERLAKE_SYMBOLS": "AAPL,MSFT,IBM,NVDA",
        "TICKERLAKE_CALLS_PER_MINUTE": "1000",
        "TICKERLAKE_MIN_INTERVAL_S": "0",
        "TICKERLAKE_WORKFLOW_NAME": WORKFLOW,
        "ALPHAVANTAGE_SECRET_ID": secret_arn,
        "ALPHAVANTAGE_BASE_URL": server.base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    yield server, glue, as_of
    server.stop()
    clear_cache()


def bucket_objects(s3) -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def test_lambda_lands_raw_bodies_with_the_secret_key_and_starts_the_workflow(deployed, s3, caplog, capsys):
    server, glue, as_of = deployed
    server.daily_limit = 2  # the third call gets the daily-cap body, which echoes the key
    caplog.set_level(logging.DEBUG)

    summary = lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())

    assert summary["status"] == "partial"
    assert summary["counts"]["symbols_fetched"] == 2
    assert summary["carried"] == ["IBM", "NVDA"]
    assert all(call.key_ok for call in server.calls), "the key sent was not the one in Secrets Manager"

    objects = bucket_objects(s3)
    raw = {k: v for k, v in objects.items() if k.startswith("raw/daily/")}
    assert sorted(parse_hive_key(k)["symbol"] for k in raw) == ["AAPL", "MSFT"]
    for key, body in raw.items():
        parts = parse_hive_key(key)
        assert parts["run_id"] == summary["run_id"]
        assert body == server.calls_for(parts["symbol"])[0].body  # exactly as received
    assert any(k.startswith("rejected/daily/") for k in objects)
    assert summary["manifest_key"] in objects

    key_bytes = KEY.encode()
    assert any(key_bytes in call.body for call in server.calls), "the server should have echoed the key"
    assert [k for k, v in objects.items() if key_bytes in v or KEY in k] == []
    assert KEY not in caplog.text
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    assert KEY not in repr(summary)

    (run,) = glue.get_workflow_runs(Name=WORKFLOW)["Runs"]
    assert run["WorkflowRunId"] == summary["workflow_run_id"]
    props = glue.get_workflow_run_properties(Name=WORKFLOW, RunId=run["WorkflowRunId"])["RunProperties"]
    assert props == {"run_id": summary["run_id"], "as_of": as_of.isoformat()}


def test_once_the_days_quota_is_spent_a_second_invocation_only_restarts_the_wap(deployed):
    server, glue, as_of = deployed
    server.daily_limit = 2
    lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())
    calls = len(server.calls)
    second = lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())
    assert len(server.calls) == calls
    assert second["status"] == "nothing_fetched"
    assert second["pending_runs"] == 1  # the first run's data is still waiting for a WAP
    assert "daily quota already used" in second["problems"][0]
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 2


def test_the_run_log_records_the_ingest_stage_for_the_glue_jobs_to_continue(deployed, s3):
    server, glue, as_of = deployed
    summary = lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())
    doc = json.loads(s3.get_object(Bucket=BUCKET, Key=f"runs/{summary['run_id']}.json")["Body"].read())
    assert doc["as_of"] == as_of.isoformat()
    assert list(doc["stages"]) == [s.name for s in graph.STAGES]
    assert doc["stages"]["ingest"]["status"] == "succeeded"
    assert doc["stages"]["ingest"]["counts"]["symbols_fetched"] == 4
    assert doc["stages"]["crawl"]["status"] == "pending"


def test_nothing_fetched_fails_the_invocation_and_starts_no_workflow(deployed, s3):
    server, glue, as_of = deployed
    server.invalid_symbols = {"AAPL", "MSFT", "IBM", "NVDA"}
    with pytest.raises(NothingFetched, match="nothing to publish"):
        lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())
    assert glue.get_workflow_runs(Name=WORKFLOW)["Runs"] == []
    (log_key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="runs/")["Contents"]]
    doc = json.loads(s3.get_object(Bucket=BUCKET, Key=log_key)["Body"].read())
    assert doc["stages"]["ingest"]["status"] == "failed"


def test_near_the_timeout_it_stops_waiting_and_lambdas_retry_resumes(deployed, s3):
    server, glue, as_of = deployed
    server.failures = {"AAPL": ["rate_limit"]}  # the planner would wait a minute
    with pytest.raises(lambda_handler.DeadlineNear, match="Lambda timeout"):
        lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext(seconds=100))
    objects = bucket_objects(s3)
    assert not any(k.startswith("raw/daily/") for k in objects)
    assert any(k.startswith("manifests/ingest/") for k in objects)  # what happened is recorded
    assert glue.get_workflow_runs(Name=WORKFLOW)["Runs"] == []

    retry = lambda_handler.handler({"as_of": as_of.isoformat()}, FakeContext())
    assert retry["status"] == "ok"
    assert [c.symbol for c in server.calls] == ["AAPL", "AAPL", "MSFT", "IBM", "NVDA"]
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 1


def test_without_a_session_today_the_schedule_does_nothing(deployed, monkeypatch):
    server, glue, as_of = deployed
    christmas = dt.date(2026, 12, 25)  # a Friday the exchange is closed
    monkeypatch.setattr(lambda_handler, "_new_york_today", lambda: christmas)
    assert lambda_handler.handler({}, FakeContext()) == {"status": "no_session", "day": "2026-12-25"}
    assert server.calls == []
