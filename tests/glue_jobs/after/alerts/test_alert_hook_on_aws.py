"""On AWS the alert step sends through the SNS topic and records what it sent in the S3
lake: a re-run of the day publishes nothing (moto: no network)."""
from __future__ import annotations

import json

import boto3
import pyarrow as pa
import pytest

from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.adapters.aws.sns_notifier import SnsNotifier
from glue_jobs.after.alerts import raise_alerts
from tests.glue_jobs.after.alerts.test_alert_hook import AS_OF, CONFIG, _ctx, _rows
from tests.support.demo_lake import DemoLake

REGION = "us-east-1"


@pytest.fixture()
def aws(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def test_rerun_on_aws_publishes_each_alert_to_sns_once(aws, tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="lake")
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="tickerlake-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    engine = DemoLake(tmp_path / "published")
    engine.register("daily_prices", pa.Table.from_pylist(_rows(AS_OF)))
    storage = S3Storage("lake", client=s3)
    for run_id in ("run-1", "run-2"):
        notifier = SnsNotifier(topic, client=sns, storage=storage)
        raise_alerts(_ctx(engine, storage, notifier, run_id=run_id), config=CONFIG)

    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        messages += batch
        sqs.delete_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    subjects = sorted(json.loads(m["Body"])["Subject"] for m in messages)
    assert len(subjects) == 4, subjects
    assert any(s.startswith("AAPL moved +8.00%") for s in subjects)
    markers = s3.list_objects_v2(Bucket="lake", Prefix="alerts/sent/").get("KeyCount", 0)
    assert markers == 4
