"""Fan-out on moto: the scheduled ingestion Lambda in fan-out mode plans the day onto SQS, the
worker Lambda (driven here as the SQS event source mapping drives it: batches of up to 10, the
messages it does not report failed deleted) fetches from the fake Alpha Vantage under the
DynamoDB token bucket and lands raw in S3, and the Glue workflow is started once, when drained."""
from __future__ import annotations

import json

import boto3
import pytest

from glue_jobs.lake import layout, trading_calendar
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.queue import MAX_RECEIVE_COUNT
from glue_jobs.runtime import open_runtime
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.aws import REGION
from workflows.entry import fanout_worker, lambda_handler

BUCKET = "tickerlake-test-lake"
WORKFLOW = "tickerlake-wap"
KEY = "LAMBDAKEY-5b8e0c41d7"
TABLE = "tickerlake-token-buckets"
SYMBOLS = ["AAPL", "MSFT", "IBM", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM", "V", "WMT", "NOPE"]


class FakeContext:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


@pytest.fixture
def stack(s3, monkeypatch):
    clear_cache()
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="tickerlake/alphavantage", SecretString=KEY)["ARN"]
    glue = boto3.client("glue", region_name=REGION)
    glue.create_workflow(Name=WORKFLOW)
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="ingest", Attributes={"VisibilityTimeout": "1800", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})})["QueueUrl"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "bucket", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "bucket", "AttributeType": "S"}])
    as_of = trading_calendar.latest_completed_session()
    server = FakeAlphaVantage(api_key=KEY, as_of=as_of, per_minute=600, invalid_symbols=["NOPE"]).start()
    env = {
        "TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_SOURCE": "alphavantage",
        "TICKERLAKE_SYMBOLS": ",".join(SYMBOLS), "TICKERLAKE_CALLS_PER_MINUTE": "600",
        "TICKERLAKE_CALLS_PER_DAY": "10000", "TICKERLAKE_MIN_INTERVAL_S": "0",
        "TICKERLAKE_WORKFLOW_NAME": WORKFLOW, "ALPHAVANTAGE_SECRET_ID": secret,
        "ALPHAVANTAGE_BASE_URL": server.base_url, "TICKERLAKE_INGEST_MODE": "fan-out",
        "TICKERLAKE_QUEUE_URL_INGEST": queue, "TICKERLAKE_QUEUE_URL_INGEST_DLQ": dlq,
        "TICKERLAKE_TOKEN_BUCKET_TABLE": TABLE,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    yield server, glue, sqs, queue, as_of
    server.stop()
    clear_cache()


def _event_source_mapping(sqs, queue: str, context: FakeContext, *, rounds: int = 20) -> list[dict]:
    """What Lambda's SQS poller does: receive a batch, invoke, delete what was not reported failed."""
    answers = []
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                  AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if not got:
            break
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs"} for m in got]}
        answer = fanout_worker.handler(event, context)
        answers.append(answer)
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return answers


def test_planner_workers_and_one_workflow_start_on_aws(stack, s3):
    server, glue, sqs, queue, as_of = stack
    planned = lambda_handler.handler({}, FakeContext(900))
    assert planned["status"] == "planned" and planned["enqueued"] == len(SYMBOLS)
    assert glue.get_workflow_runs(Name=WORKFLOW)["Runs"] == []  # nothing starts before the queue drains

    answers = _event_source_mapping(sqs, queue, FakeContext(300))
    assert all(a["batchItemFailures"] == [] for a in answers)
    runs = glue.get_workflow_runs(Name=WORKFLOW)["Runs"]
    assert len(runs) == 1 and runs[0]["WorkflowRunProperties"]["run_id"] == planned["run_id"]
    # a scheduled drain check (or a duplicate delivery) afterwards starts nothing more
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 1

    storage = open_runtime(f"s3://{BUCKET}").storage
    for symbol in SYMBOLS[:-1]:
        key = layout.raw_key(as_of.isoformat(), symbol, planned["run_id"], "csv")
        assert storage.get_bytes(key) == server.data_body(symbol)
    ingest = RunLog.load(storage, planned["run_id"]).doc["stages"]["ingest"]
    assert ingest["counts"]["symbols_fetched"] == len(SYMBOLS) - 1
    assert ingest["counts"]["symbols_failed"] == 1
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key={"bucket": {"S": "alphavantage"}}, ConsistentRead=True)["Item"]
    assert int(item["used"]["N"]) == len(server.calls)  # every call went through the shared bucket


def test_a_worker_with_too_little_time_gives_the_batch_back_without_a_call(stack):
    server, glue, sqs, queue, _ = stack
    lambda_handler.handler({}, FakeContext(900))
    answers = _event_source_mapping(sqs, queue, FakeContext(30), rounds=1)
    assert len(answers[0]["batchItemFailures"]) == 10
    assert server.calls == []


def test_a_misconfigured_worker_keeps_every_message(stack, monkeypatch):
    _, _, sqs, queue, _ = stack
    lambda_handler.handler({}, FakeContext(900))
    monkeypatch.delenv("TICKERLAKE_TOKEN_BUCKET_TABLE")
    answers = _event_source_mapping(sqs, queue, FakeContext(300), rounds=1)
    assert len(answers[0]["batchItemFailures"]) == 10


def test_the_planner_and_worker_roles_allow_every_call_they_make(stack):
    """Each call the planner (IngestRole with FanOutPlannerPolicy) and the workers
    (FanOutWorkerRole) made on moto, against the template's policies: moto does not check IAM."""
    from tests.support.iam_policy import CallRecorder, Names, RolePolicies, denied

    _, _, sqs, queue, _ = stack
    secret = boto3.client("secretsmanager", region_name=REGION).describe_secret(
        SecretId="tickerlake/alphavantage")["ARN"]
    names = Names(bucket=BUCKET, secret_arn=secret)
    policies = RolePolicies.from_template(names)
    planner, worker = CallRecorder(), CallRecorder()
    with planner.recording():
        lambda_handler.handler({}, FakeContext(900))
    with worker.recording():
        _event_source_mapping(sqs, queue, FakeContext(300))
    # the mapping's own receive and delete (the test's client, made before recording) are not recorded
    assert {(c.service, c.operation) for c in worker.calls} >= {
        ("dynamodb", "GetItem"), ("dynamodb", "PutItem"), ("s3", "PutObject"), ("glue", "StartWorkflowRun"),
        ("sqs", "DeleteMessage"), ("sqs", "GetQueueAttributes")}
    refused = denied(policies, "IngestRole", planner.calls, names)
    refused += denied(policies, "FanOutWorkerRole", worker.calls, names)
    assert refused == [], "\n".join(refused)


class _GlueWithOneRunAtATime:
    """The moto Glue client, refusing a start as Glue does when the workflow's MaxConcurrentRuns (1
    in the template) is reached: moto starts any number of runs."""

    def __init__(self, glue):
        self.glue, self.busy = glue, True

    def start_workflow_run(self, **kwargs):
        from botocore.exceptions import ClientError

        if self.busy:
            raise ClientError({"Error": {"Code": "ConcurrentRunsExceededException",
                                         "Message": "Concurrent runs exceeded for workflow"}}, "StartWorkflowRun")
        return self.glue.start_workflow_run(**kwargs)


def _runs_of(glue, run_id: str) -> list[dict]:
    return [r for r in glue.get_workflow_runs(Name=WORKFLOW)["Runs"]
            if r["WorkflowRunProperties"].get("run_id") == run_id]


def test_a_drained_run_whose_workflow_start_fails_is_started_by_the_next_drain_check(stack):
    _, glue, sqs, queue, _ = stack
    planned = lambda_handler.handler({}, FakeContext(900))
    glue.delete_workflow(Name=WORKFLOW)  # StartWorkflowRun answers EntityNotFoundException
    answers = _event_source_mapping(sqs, queue, FakeContext(300))
    # the symbols were handled: no message fails because the start did
    assert all(a["batchItemFailures"] == [] for a in answers)
    # the scheduled check fails loudly (the Errors alarm) while Glue still refuses
    with pytest.raises(Exception, match="EntityNotFound"):
        fanout_worker.handler({"drain_check": True}, FakeContext(300))
    glue.create_workflow(Name=WORKFLOW)
    assert glue.get_workflow_runs(Name=WORKFLOW)["Runs"] == []

    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert len(_runs_of(glue, planned["run_id"])) == 1
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 1


def test_a_drained_run_waits_for_a_busy_workflow_and_starts_once_it_is_free(stack, monkeypatch):
    _, glue, sqs, queue, _ = stack
    planned = lambda_handler.handler({}, FakeContext(900))
    one_at_a_time = _GlueWithOneRunAtATime(glue)
    real_handler = fanout_worker.handler
    monkeypatch.setattr(fanout_worker, "handler",
                        lambda event, context: real_handler(event, context, glue_client=one_at_a_time))
    _event_source_mapping(sqs, queue, FakeContext(300))
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert _runs_of(glue, planned["run_id"]) == []  # still busy: nothing started, nothing lost

    one_at_a_time.busy = False  # the earlier run ended
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert len(_runs_of(glue, planned["run_id"])) == 1


def _record(m: dict) -> dict:
    return {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs"}


def test_an_sqs_redelivery_during_the_fetch_is_fetched_once_and_counted_once(stack, monkeypatch):
    """SQS delivers at least once: the same message reaches a second worker while the first is
    still fetching it. The second must not call Alpha Vantage or land; the run counts the symbol once."""
    server, glue, sqs, queue, as_of = stack
    planned = lambda_handler.handler({}, FakeContext(900))
    first = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=0,
                                AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    again = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=1800,
                                AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["MessageId"] == first["MessageId"] and again["ReceiptHandle"] != first["ReceiptHandle"]
    symbol = json.loads(first["Body"])["symbol"]
    answers, delivered = [], []
    real_build = fanout_worker.build_source

    def build_source(*args, **kwargs):
        source = real_build(*args, **kwargs)
        fetch = source.fetch

        def fetch_while_redelivered(sym, **kw):
            if sym == symbol and not delivered:  # the redelivery reaches another worker mid-fetch
                delivered.append(again["MessageId"])
                answers.append(fanout_worker.handler({"Records": [_record(again)]}, FakeContext(300)))
            return fetch(sym, **kw)

        source.fetch = fetch_while_redelivered
        return source

    monkeypatch.setattr(fanout_worker, "build_source", build_source)
    outer = fanout_worker.handler({"Records": [_record(first)]}, FakeContext(300))
    assert outer["batchItemFailures"] == []
    assert answers[0]["batchItemFailures"] == [{"itemIdentifier": again["MessageId"]}]  # it waits
    assert len(server.calls_for(symbol)) == 1

    # moto, as SQS may, deleted the message by the first worker's older handle; where SQS does
    # not, the redelivery comes back when its wait is over (made visible now) and finds it settled
    from botocore.exceptions import ClientError

    try:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    _event_source_mapping(sqs, queue, FakeContext(300))
    assert len(_runs_of(glue, planned["run_id"])) == 1
    storage = open_runtime(f"s3://{BUCKET}").storage
    assert storage.get_bytes(layout.raw_key(as_of.isoformat(), symbol, planned["run_id"], "csv")) == \
        server.data_body(symbol)
    counts = RunLog.load(storage, planned["run_id"]).doc["stages"]["ingest"]["counts"]
    assert counts["symbols_fetched"] == len(SYMBOLS) - 1
    assert counts["raw_objects"] == len(SYMBOLS) - 1
    assert counts["api_calls"] == len(SYMBOLS) == len(server.calls)


def test_a_drain_waits_while_another_run_holds_the_lake_then_finishes(stack):
    """The drain writes the ingest manifest and state under the lake lock: while another run (a
    CLI run on the same bucket, a WAP job) holds it, nothing is written or started, and no
    message fails; the scheduled check after it is released finishes the run."""
    from glue_jobs.lake.lock import LakeLock

    _, glue, sqs, queue, as_of = stack
    storage = open_runtime(f"s3://{BUCKET}").storage
    planned = lambda_handler.handler({}, FakeContext(900))
    held = LakeLock(storage, "20261120T210000Z-cli").acquire()
    answers = _event_source_mapping(sqs, queue, FakeContext(300))
    assert all(a["batchItemFailures"] == [] for a in answers)
    fanout_worker.handler({"drain_check": True}, FakeContext(300))  # waiting is not an error
    assert _runs_of(glue, planned["run_id"]) == []
    assert not storage.exists(layout.manifest_key(as_of.isoformat(), planned["run_id"]))
    assert not storage.exists(layout.STATE_KEY)

    held.release()
    fanout_worker.handler({"drain_check": True}, FakeContext(300))
    assert len(_runs_of(glue, planned["run_id"])) == 1
    assert storage.exists(layout.manifest_key(as_of.isoformat(), planned["run_id"]))
    assert not storage.exists(layout.LOCK_KEY)


def test_a_back_off_that_would_outlast_the_invocation_gives_the_batch_back_and_it_lands_later(stack, monkeypatch):
    """DeadlineNear: a retry back-off inside the client (here 50 s, with 100 s left and a 60 s
    margin) would run into the timeout. The whole batch goes back at once, the symbol's claim is
    given back with it, and the next invocations land everything and start the WAP once."""
    import time

    server, glue, sqs, queue, _ = stack
    planned = lambda_handler.handler({}, FakeContext(900))
    real_build = fanout_worker.build_source
    hit = []

    def build_source(*args, **kwargs):
        source, sleep = real_build(*args, **kwargs), kwargs["sleep"]
        fetch = source.fetch

        def fetch_after_a_long_back_off(sym, **kw):
            if not hit:
                hit.append(sym)
                sleep(50.0)  # what the client's back-off after a 5xx would ask
            return fetch(sym, **kw)

        source.fetch = fetch_after_a_long_back_off
        return source

    monkeypatch.setattr(fanout_worker, "build_source", build_source)
    (answer,) = _event_source_mapping(sqs, queue, FakeContext(100), rounds=1)
    assert len(answer["batchItemFailures"]) == 10  # the one being fetched and the nine after it
    assert server.calls == []
    time.sleep(1.2)  # given back visible in 1 s

    _event_source_mapping(sqs, queue, FakeContext(300))
    assert len(_runs_of(glue, planned["run_id"])) == 1
    assert len(server.calls_for(hit[0])) == 1
