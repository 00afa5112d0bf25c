"""The stack's first scheduled runs: the API-key secret is created empty while the schedule is
already on. Those runs must fail with one line that names the secret and the command filling it,
touch nothing in the lake, call nobody, and never show a key; the second concurrent run is
refused by the lake lock (the template reserves no concurrency)."""
from __future__ import annotations

import boto3
import pytest

from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.lock import LakeLock
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from workflows.entry import lambda_handler

BUCKET = "tickerlake-test-lake"
WORKFLOW = "tickerlake-wap"
KEY = "FIRSTRUNKEY-7c1d2e"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture
def first_deploy(s3, monkeypatch):
    """What `make deploy` leaves: the bucket, the workflow, and a secret with no value."""
    clear_cache()
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secret_arn = secrets.create_secret(Name="tickerlake-ApiKeySecret-abc")["ARN"]  # as CloudFormation makes it
    boto3.client("glue", region_name="us-east-1").create_workflow(Name=WORKFLOW)
    as_of = trading_calendar.latest_completed_session()
    server = FakeAlphaVantage(api_key=KEY, as_of=as_of).start()
    for name, value in {
        "TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_SOURCE": "alphavantage",
        "TICKERLAKE_SYMBOLS": "AAPL,MSFT", "TICKERLAKE_CALLS_PER_MINUTE": "1000", "TICKERLAKE_MIN_INTERVAL_S": "0",
        "TICKERLAKE_WORKFLOW_NAME": WORKFLOW, "ALPHAVANTAGE_SECRET_ID": secret_arn,
        "ALPHAVANTAGE_BASE_URL": server.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    yield secrets, secret_arn, server, as_of
    server.stop()
    clear_cache()


def lake_keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_run_before_the_key_is_put_fails_with_one_line_naming_the_secret_and_the_command(first_deploy, s3):
    secrets, secret_arn, server, as_of = first_deploy

    with pytest.raises(lambda_handler.ApiKeyNotSet) as caught:
        lambda_handler.handler({"trigger": "schedule", "as_of": as_of.isoformat()}, Context())

    message = str(caught.value)
    assert "\n" not in message
    assert secret_arn in message
    assert f"aws secretsmanager put-secret-value --secret-id {secret_arn} --secret-string" in message
    assert "ResourceNotFoundException" not in message and "check the secret exists" not in message.lower()
    # raised `from None`: the Lambda log shows this line, not a chain of botocore tracebacks
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert server.calls == []
    assert lake_keys(s3) == []  # nothing written: the run can simply be repeated once the key is there

    # once the key is put, the next run goes through with it
    secrets.put_secret_value(SecretId=secret_arn, SecretString=KEY)
    clear_cache()
    summary = lambda_handler.handler({"trigger": "schedule", "as_of": as_of.isoformat()}, Context())
    assert summary["counts"]["symbols_fetched"] == 2
    assert all(call.key_ok for call in server.calls)


def test_a_blank_key_put_by_mistake_gets_the_same_line(first_deploy):
    secrets, secret_arn, server, as_of = first_deploy
    secrets.put_secret_value(SecretId=secret_arn, SecretString="   \n")
    with pytest.raises(lambda_handler.ApiKeyNotSet, match="put-secret-value --secret-id"):
        lambda_handler.handler({"as_of": as_of.isoformat()}, Context())
    assert server.calls == []


def test_a_second_invocation_while_one_runs_is_refused_by_the_lake_lock_before_any_call(first_deploy, s3):
    secrets, secret_arn, server, as_of = first_deploy
    secrets.put_secret_value(SecretId=secret_arn, SecretString=KEY)
    storage = S3Storage(BUCKET, client=s3)
    with LakeLock(storage, "20261120T220000Z-other1"):  # the run already going
        with pytest.raises(LockHeld, match="locked by"):
            lambda_handler.handler({"as_of": as_of.isoformat()}, Context())
    assert server.calls == []
    assert not [k for k in lake_keys(s3) if k.startswith("raw/")]
