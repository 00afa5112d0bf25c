from __future__ import annotations

import json

import boto3
import pytest

from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.adapters.aws.sns_notifier import SnsNotifier, sns_subject
from glue_jobs.ports.notifier import Alert

BUCKET = "tickerlake-test-lake"


@pytest.fixture
def topic_and_queue(aws):
    """A topic with an SQS subscriber: what subscribers receive is read back from the queue."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="tickerlake-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return sns, topic_arn, sqs, queue_url


def received(sqs, queue_url) -> list[dict]:
    out = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return out
        for message in batch:
            out.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def move_alert(symbol: str, run_id: str = "20261120T220001Z-abc123") -> Alert:
    return Alert(rule="daily_move", subject=f"{symbol} moved -7.2% on 2026-11-20",
                 message=f"{symbol} closed 7.2% below the previous session.", run_id=run_id,
                 symbol=symbol, trade_date="2026-11-20", details={"move_pct": -7.2})


def test_alerts_reach_the_topics_subscribers_with_subject_and_details(topic_and_queue):
    sns, topic_arn, sqs, queue_url = topic_and_queue
    SnsNotifier(topic_arn, client=sns).send([move_alert("AAPL"), move_alert("MSFT")])
    messages = received(sqs, queue_url)
    assert sorted(m["Subject"] for m in messages) == ["AAPL moved -7.2% on 2026-11-20",
                                                       "MSFT moved -7.2% on 2026-11-20"]
    aapl = next(m for m in messages if m["Subject"].startswith("AAPL"))
    assert aapl["Message"].startswith("AAPL closed 7.2% below the previous session.")
    payload = json.loads(aapl["Message"].split("\n\n", 1)[1])
    assert payload["details"] == {"move_pct": -7.2}
    assert payload["dedupe_key"] == "daily_move|AAPL|2026-11-20"
    assert aapl["MessageAttributes"]["rule"]["Value"] == "daily_move"


def test_a_rerun_of_the_day_does_not_repeat_alerts_already_sent(topic_and_queue, s3):
    sns, topic_arn, sqs, queue_url = topic_and_queue
    notifier = SnsNotifier(topic_arn, client=sns, storage=S3Storage(BUCKET, client=s3))
    notifier.send([move_alert("AAPL"), move_alert("AAPL")])
    notifier.send([move_alert("AAPL", run_id="20261120T230000Z-def456"), move_alert("IBM")])
    assert sorted(m["Subject"][:4] for m in received(sqs, queue_url)) == ["AAPL", "IBM "]


def test_long_or_multiline_subjects_are_cut_to_what_sns_accepts(topic_and_queue):
    sns, topic_arn, sqs, queue_url = topic_and_queue
    long_subject = "Run 20261120T220001Z-abc123 failed:\naudit blocked publish " + "because " * 30 + "é"
    SnsNotifier(topic_arn, client=sns).send(
        [Alert(rule="run_failed", subject=long_subject, message="see the run log", run_id="r")]
    )
    (message,) = received(sqs, queue_url)
    assert message["Subject"] == sns_subject(long_subject)
    assert len(message["Subject"]) == 100 and message["Subject"].endswith("...")
    assert "\n" not in message["Subject"] and message["Subject"].isascii()
