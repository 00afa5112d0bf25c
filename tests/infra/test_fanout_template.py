"""The fan-out resources in infra/template.yaml hold the rules our code relies on and that no
deploy-free tool checks: the worker's timeout against the queue's visibility timeout, partial
batch failures, a capped concurrency, the dead-letter queue outliving its source, the token
bucket table's key, and the alarms; all of it only in IngestMode fan-out."""
from __future__ import annotations

import pytest
from cfnlint.decode import decode

from glue_jobs.ports.queue import MAX_RECEIVE_COUNT
from ingestion.fanout.worker import DEFAULT_FETCH_BUDGET_S
from tests.support.iam_policy import TEMPLATE

FAN_OUT = ("FanOutQueue", "FanOutDeadLetterQueue", "TokenBucketTable", "FanOutWorkerFunction", "FanOutWorkerRole",
           "FanOutWorkerEventSource", "FanOutPlannerPolicy", "FanOutDrainCheckSchedule", "FanOutDeadLettersAlarm",
           "FanOutOldestMessageAlarm", "FanOutWorkerErrorsAlarm", "FanOutWorkerThrottlesAlarm")


@pytest.fixture(scope="module")
def res() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return parsed["Resources"]


def test_every_fan_out_resource_exists_only_in_fan_out_mode(res):
    for name in FAN_OUT:
        assert res[name].get("Condition") == "IsFanOut", name


def test_the_worker_timeout_covers_a_fetch_and_the_queue_hides_a_message_for_six_of_them(res):
    timeout = int(res["FanOutWorkerFunction"]["Properties"]["Timeout"])
    assert timeout >= 2 * DEFAULT_FETCH_BUDGET_S  # room for a fetch plus the token waits a worker accepts
    assert int(res["FanOutQueue"]["Properties"]["VisibilityTimeout"]) >= 6 * timeout
    assert res["FanOutWorkerFunction"]["Properties"]["Handler"] == "workflows.entry.fanout_worker.handler"


def test_the_mapping_reports_partial_failures_and_caps_the_workers(res):
    mapping = res["FanOutWorkerEventSource"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "FanOutConcurrency"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["FanOutQueue", "Arn"]}


def test_the_dead_letter_queue_takes_a_symbol_after_five_receives_and_keeps_it_longer(res):
    queue, dlq = res["FanOutQueue"]["Properties"], res["FanOutDeadLetterQueue"]["Properties"]
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    assert int(dlq["MessageRetentionPeriod"]) > int(queue["MessageRetentionPeriod"])
    assert queue["KmsMasterKeyId"] == dlq["KmsMasterKeyId"] == {"Ref": "DataKey"}


def test_the_token_bucket_table_is_keyed_by_bucket_on_demand_recoverable_and_encrypted(res):
    props = res["TokenBucketTable"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "bucket", "KeyType": "HASH"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"


def test_alarms_watch_the_dead_letter_queue_and_the_oldest_message(res):
    dead = res["FanOutDeadLettersAlarm"]["Properties"]
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["FanOutDeadLetterQueue", "QueueName"]}
    assert dead["Threshold"] == 1 and dead["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    oldest = res["FanOutOldestMessageAlarm"]["Properties"]
    assert oldest["MetricName"] == "ApproximateAgeOfOldestMessage"
    # a normal day (about 67 minutes for 5,000 symbols at 75 a minute) must not fire it
    assert oldest["Threshold"] > 75 * 60


def test_the_scheduled_function_plans_only_in_fan_out_mode(res):
    env = res["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TICKERLAKE_INGEST_MODE"] == {"Ref": "IngestMode"}
    assert env["TICKERLAKE_QUEUE_URL_INGEST"] == {"Fn::If": ["IsFanOut", {"Ref": "FanOutQueue"},
                                                              {"Ref": "AWS::NoValue"}]}
