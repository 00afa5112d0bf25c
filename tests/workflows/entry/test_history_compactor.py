"""The scheduled history compactor Lambda (workflows/entry/history_compactor.py) under moto, on a
bucket holding the consumer Lambda's batch files of a session (SQS FIFO transport): invoked
after the close it merges the day (same rows, one object per message group, the Glue partition
switched with its schema and format unchanged) with only HistoryCompactorRole's rights; invoked
during the session it leaves the day alone; a second invocation changes nothing; it fails loudly
when it cannot compact."""
from __future__ import annotations

import datetime as dt
import re

import boto3
import pytest

from glue_jobs.intraday import history as quote_history
from tests.glue_jobs.intraday.quotes import SESSION
from tests.support.iam_policy import CallRecorder, RolePolicies, denied, iam_requests
from tests.workflows.cli.test_stream_compact_on_aws import BUCKET, REGION, history_files, sqs_fifo_stack
from workflows.entry import history_compactor

CLOSED = dt.datetime(2026, 11, 30, 21, 30, tzinfo=dt.timezone.utc).timestamp()  # the schedule, after 21:00 UTC's close
DURING = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.timezone.utc).timestamp()  # 13:00 New York: the session is open


@pytest.fixture
def stack(aws, glue, dynamodb_contract, monkeypatch):
    return sqs_fifo_stack(dynamodb_contract, monkeypatch)


def invoke(when: float, event: dict | None = None) -> dict:
    return history_compactor.handler(event or {"trigger": "schedule"}, None, clock=lambda: when)


def objects(s3) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def partition(glue) -> dict:
    parts = glue.get_partitions(DatabaseName="stocks", TableName="intraday_quotes")["Partitions"]
    assert [p["Values"] for p in parts] == [[SESSION]]
    return parts[0]["StorageDescriptor"]


def rows(files: dict) -> list:
    return sorted(r for day_rows in files.values() for r in day_rows)


def test_after_the_close_the_day_becomes_one_file_per_group_with_the_roles_rights(stack, glue, caplog):
    names, _ = stack
    s3 = boto3.client("s3", region_name=REGION)
    before, registered = history_files(s3), partition(glue)
    assert len(before) == 3  # IBM's two runs and MSFT's
    recorder = CallRecorder()
    with recorder.recording(), caplog.at_level("INFO", logger="tickerlake.history_compactor"):
        result = invoke(CLOSED)
    assert result == {"days": [SESSION], "files_in": 3, "rows": 4, "files_out": 2, "leftovers_deleted": 0,
                      "failed": []}
    assert f"dt={SESSION}: 3 files merged into 2 (4 rows)" in caplog.text
    after, switched = history_files(s3), partition(glue)
    location = switched["Location"][len(f"s3://{BUCKET}/"):]
    assert location.startswith(f"{quote_history.COMPACTED_PREFIX}dt={SESSION}/g")
    assert sorted(after) == sorted(k for k in after if k.startswith(location)) and len(after) == 2
    assert rows(after) == rows(before)
    # the day is registered as before, only its location changed
    assert {k: v for k, v in switched.items() if k != "Location"} == \
        {k: v for k, v in registered.items() if k != "Location"}
    policies = RolePolicies.from_template(names)
    assert denied(policies, "HistoryCompactorRole", recorder.calls, names) == []
    assert denied(policies.without("HistoryCompactorRole", "s3:DeleteObject"), "HistoryCompactorRole",
                  recorder.calls, names)


def test_the_role_grants_the_actions_the_compactor_uses_and_no_other(stack, glue):
    names, _ = stack
    recorder = CallRecorder()
    with recorder.recording():
        invoke(CLOSED)
    used = {r.action for c in recorder.calls for r in iam_requests(c, names)}
    policies = RolePolicies.from_template(names)
    granted = {a for st in policies.statements["HistoryCompactorRole"] if st.effect == "Allow" for a in st.actions}
    # not seen on this path: a partition switch creates a day that is absent from the catalog
    # (GlueCatalog.switch_partitions); glue:UpdatePartition goes with BatchUpdatePartition as in
    # every role of the template that switches partitions (whether Glue authorizes a batch's
    # entries as UpdatePartition is not verified on AWS); the function's own log, DLQ and the
    # bucket's KMS key are used by Lambda and S3 on its behalf, which moto does not show as calls
    unseen = {"glue:BatchCreatePartition", "glue:UpdatePartition", "logs:CreateLogStream", "logs:PutLogEvents",
              "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey"}
    assert granted - unseen == used
    # and only on the history's prefix
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert policies.allows("HistoryCompactorRole", action, f"arn:aws:s3:::{BUCKET}/{quote_history.PREFIX}x")
        assert not policies.allows("HistoryCompactorRole", action, f"arn:aws:s3:::{BUCKET}/warehouse/x")
    assert not policies.allows("HistoryCompactorRole", "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": ""})


def test_during_the_session_the_day_is_left_alone(stack, glue):
    s3 = boto3.client("s3", region_name=REGION)
    before, registered = objects(s3), partition(glue)
    assert invoke(DURING)["days"] == []
    assert objects(s3) == before and partition(glue) == registered
    with pytest.raises(Exception, match="the day is not over"):
        invoke(DURING, {"day": SESSION})
    assert objects(s3) == before and partition(glue) == registered


def test_a_second_invocation_changes_nothing(stack, glue):
    s3 = boto3.client("s3", region_name=REGION)
    invoke(CLOSED)
    compacted, switched = objects(s3), partition(glue)
    again = invoke(CLOSED + 86_400)
    assert again["days"] == [] and again["files_in"] == 0 and again["rows"] == 0
    assert objects(s3) == compacted and partition(glue) == switched


def test_a_queue_not_drained_fails_the_invocation_and_compacts_nothing(stack, glue):
    _, queue = stack
    s3 = boto3.client("s3", region_name=REGION)
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=queue, MessageBody="{}", MessageGroupId="IBM", MessageDeduplicationId="late")
    before = objects(s3)
    with pytest.raises(history_compactor.CompactionFailed, match="still holds 1 message"):
        invoke(CLOSED)
    assert objects(s3) == before


def test_a_day_that_cannot_be_merged_fails_the_invocation_naming_it_and_loses_nothing(stack, glue):
    s3 = boto3.client("s3", region_name=REGION)
    broken = f"{quote_history.PREFIX}dt={SESSION}/IBM~99~99.parquet"
    s3.put_object(Bucket=BUCKET, Key=broken, Body=b"not parquet")
    before, registered = objects(s3), partition(glue)
    with pytest.raises(history_compactor.CompactionFailed, match=f"dt={SESSION}"):
        invoke(CLOSED)
    # nothing deleted and the day still read where it was; a merged file may be left, unread
    assert {k: v for k, v in objects(s3).items() if k in before} == before
    assert partition(glue) == registered


@pytest.mark.parametrize("env, problem", [
    ({"TICKERLAKE_STREAM_QUEUE_URL": "https://sqs/q.fifo"}, "TICKERLAKE_LAKE is ''"),
    ({"TICKERLAKE_LAKE": "./lake", "TICKERLAKE_STREAM_QUEUE_URL": "https://sqs/q.fifo"}, "s3://<lake bucket>"),
    ({"TICKERLAKE_LAKE": f"s3://{BUCKET}"}, "TICKERLAKE_STREAM_QUEUE_URL is not set"),
])
def test_a_misconfigured_function_names_the_variable(env, problem):
    from glue_jobs.lake.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(problem)):
        history_compactor.handler({}, None, env=env, clock=lambda: CLOSED)


def partition_rows(s3, glue) -> list:
    """What a reader of the day sees: the rows of the files under the partition's location."""
    location = partition(glue)["Location"][len(f"s3://{BUCKET}/"):]
    return rows({k: v for k, v in history_files(s3).items() if k.startswith(location)})


@pytest.mark.parametrize("point", ["intraday.compact.after_write", "catalog.after_write",
                                   "intraday.compact.after_switch"])
def test_an_invocation_that_dies_part_way_is_finished_by_the_retry(stack, glue, point):
    from glue_jobs.lake import failpoints

    s3 = boto3.client("s3", region_name=REGION)
    before = rows(history_files(s3))
    failpoints.reset({failpoints.ENV_POINT: point, failpoints.ENV_ACTION: "raise"})
    try:
        with pytest.raises(history_compactor.CompactionFailed, match=f"dt={SESSION}: InjectedFault"):
            invoke(CLOSED)
    finally:
        failpoints.reset({})
    assert partition_rows(s3, glue) == before  # a reader in between sees every row once
    retried = invoke(CLOSED)
    assert retried["failed"] == [] and partition_rows(s3, glue) == before
    location = partition(glue)["Location"][len(f"s3://{BUCKET}/"):]
    assert location.startswith(quote_history.COMPACTED_PREFIX)
    assert all(k.startswith(location) for k in history_files(s3))  # no batch file left
    settled = objects(s3)
    assert invoke(CLOSED)["days"] == [] and objects(s3) == settled
