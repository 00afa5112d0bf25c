"""`tickerlake stream compact --lake s3://...` under moto, through main() as an operator runs it
against a stack on the SQS FIFO transport: the consumer Lambda's per-batch history files of a
finished day become one per message group, the day's Glue partition is switched to them, and
every call it makes is one HistoryCompactorRole allows (its S3 rights end at the history's prefix):
the role of the stack's HistoryCompactorFunction, which runs the same code on a schedule
(tests/workflows/entry/test_history_compactor.py)."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest

from glue_jobs.intraday import history as quote_history
from glue_jobs.intraday.history_replay import parquet_rows
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from tests.glue_jobs.intraday.quotes import NOW, SESSION, quote
from tests.support.iam_policy import CallRecorder, Names, RolePolicies, denied
from tests.workflows.entry.test_stream_consumer import sqs_event
from tests.workflows.entry.test_stream_consumer_sqs_history import history_table
from workflows.cli import main as cli
from workflows.cli import stream_consumer_commands
from workflows.entry import stream_consumer

BUCKET = "tickerlake-test-lake"  # the IAM checker's bucket name
REGION = "us-east-1"
STACK = "tickerlake"


@pytest.fixture
def stack(aws, glue, dynamodb_contract, monkeypatch):
    deployed = sqs_fifo_stack(dynamodb_contract, monkeypatch)
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    return deployed


def sqs_fifo_stack(dynamodb_contract, monkeypatch) -> tuple[Names, str]:
    """The stack's resources on moto (SQS FIFO transport), its functions' environment, and a
    session's history as the consumer Lambda writes it: (names, quote queue URL)."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    names = Names(stack=STACK, bucket=BUCKET, conditions={"UseKinesis": False, "UseSqsFifo": True})
    table = names.table()["QuotesTable.Arn"].rsplit("/", 1)[1]
    dynamodb_contract.client.create_table(TableName=table, **QUOTES_KEYS)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name=f"{STACK}-AlertsTopic")["TopicArn"]
    queue = boto3.client("sqs", region_name=REGION).create_queue(
        QueueName=f"{STACK}-quotes.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for name, value in {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_QUOTES_TABLE": table,
                        "TICKERLAKE_TOPIC_ARN": topic, "TICKERLAKE_STREAM_QUEUE_URL": queue}.items():
        monkeypatch.setenv(name, value)
    real = stream_consumer.open_processor
    monkeypatch.setattr(stream_consumer, "open_processor", lambda runtime, **kw: real(runtime, clock=lambda: NOW, **kw))
    monkeypatch.setattr(stream_consumer, "_processor", None)
    history_table()
    # the consumer Lambda writes the day: a file per run of one message group
    event = sqs_event([quote("IBM", "101", 1), quote("MSFT", "401", 1), quote("IBM", "102", 2), quote("IBM", "103", 3)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    return names, queue


def history_files(s3) -> dict[str, list[tuple[str, int]]]:
    """key -> (symbol, sequence) rows of every history object."""
    out = {}
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=quote_history.PREFIX).get("Contents", []):
        rows = parquet_rows(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
        out[obj["Key"]] = sorted((r["symbol"], r["sequence"]) for r in rows)
    return out


def partition_location(glue) -> str:
    parts = glue.get_partitions(DatabaseName="stocks", TableName="intraday_quotes")["Partitions"]
    assert [p["Values"] for p in parts] == [[SESSION]]
    return parts[0]["StorageDescriptor"]["Location"]


def test_compact_merges_the_lambdas_files_and_switches_the_day_with_only_the_compactor_roles_rights(stack, glue, capsys):
    names, _ = stack
    s3 = boto3.client("s3", region_name=REGION)
    before = history_files(s3)
    assert len(before) == 3 and partition_location(glue) == f"s3://{BUCKET}/{quote_history.PREFIX}dt={SESSION}/"
    recorder = CallRecorder()
    with recorder.recording():
        assert cli.main(["stream", "compact", "--lake", f"s3://{BUCKET}"]) == 0
    assert "3 files merged into 2 (4 rows)" in capsys.readouterr().err
    after = history_files(s3)
    location = partition_location(glue)
    assert location.startswith(f"s3://{BUCKET}/{quote_history.COMPACTED_PREFIX}dt={SESSION}/g")
    assert all(k.startswith(location[len(f"s3://{BUCKET}/"):]) for k in after)  # the day's batch files are gone
    assert sorted(r for rows in after.values() for r in rows) == sorted(r for rows in before.values() for r in rows)
    policies = RolePolicies.from_template(names)
    assert denied(policies, "HistoryCompactorRole", recorder.calls, names) == []
    # not vacuous: without its delete right the role could not remove the batch files
    assert denied(policies.without("HistoryCompactorRole", "s3:DeleteObject"), "HistoryCompactorRole",
                  recorder.calls, names)


def test_compact_waits_while_the_queue_holds_messages(stack, glue, capsys):
    _, queue = stack
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=queue, MessageBody="{}", MessageGroupId="IBM", MessageDeduplicationId="late")
    assert cli.main(["stream", "compact", "--lake", f"s3://{BUCKET}"]) == 0
    assert "still holds 1 message(s)" in capsys.readouterr().err
    assert partition_location(glue) == f"s3://{BUCKET}/{quote_history.PREFIX}dt={SESSION}/"
    assert cli.main(["stream", "compact", "--lake", f"s3://{BUCKET}", "--day", SESSION]) == 2


def test_the_compactor_role_may_touch_only_the_history():
    names = Names(stack=STACK, bucket=BUCKET, conditions={"UseKinesis": False, "UseSqsFifo": True})
    policies = RolePolicies.from_template(names)
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:GetObject"):
        assert policies.allows("HistoryCompactorRole", action, f"arn:aws:s3:::{BUCKET}/{quote_history.PREFIX}dt=2026-11-30/a")
        assert not policies.allows("HistoryCompactorRole", action, f"arn:aws:s3:::{BUCKET}/warehouse/daily_prices/x")
        assert not policies.allows("HistoryCompactorRole", action, f"arn:aws:s3:::{BUCKET}/stream/rejected/x")
