"""The inbox Lambda on moto (S3 and Glue) with our code: files dropped under inbox/ land in raw as
drops' ingest runs and start the WAP workflow; keys arrive URL-encoded; a bad file is moved to
rejected/drops/ with its reason; a replayed batch changes nothing; a message that is not an S3
event, or a busy workflow, comes back as a batch item failure (then the dead-letter queue)."""
from __future__ import annotations

import json
from urllib.parse import quote_plus

import boto3
import pytest

from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import ingest_queue, layout
from tests.support.aws import BUCKET, REGION
from workflows.entry import drop_loader

WORKFLOW = "tickerlake-wap"
AV = (b"timestamp,open,high,low,close,volume\r\n2024-01-10,10.0,11.0,9.5,10.5,1000\r\n"
      b"2024-01-09,9.0,10.0,8.5,9.5,900\r\n")
GENERIC = b"symbol,date,open,high,low,close,volume\nAAPL,2024-01-10,1,2,0.5,1.5,10\nMSFT,2024-01-10,3,4,2,3,20\n"
ENV = {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_WORKFLOW_NAME": WORKFLOW}


def record(message_id: str, key: str) -> dict:
    body = {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key, safe="/")}}}
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": json.dumps(body)}


@pytest.fixture
def lake(s3):
    boto3.client("glue", region_name=REGION).create_workflow(Name=WORKFLOW)
    return S3Storage(BUCKET, client=s3)


def invoke(lake, *records, glue=None):
    return drop_loader.handler({"Records": list(records)}, None, storage=lake, env=ENV,
                               glue_client=glue or boto3.client("glue", region_name=REGION))


def workflow_runs() -> list[dict]:
    return boto3.client("glue", region_name=REGION).get_workflow_runs(Name=WORKFLOW)["Runs"]


def test_dropped_files_land_as_pending_ingest_runs_and_start_the_workflow(lake):
    lake.put_bytes("inbox/daily_IBM.csv", AV)
    lake.put_bytes("inbox/my export=2024.csv", GENERIC)  # `=` and a space arrive as %3D and +
    answer = invoke(lake, record("m1", "inbox/daily_IBM.csv"), record("m2", "inbox/my export=2024.csv"))
    assert answer == {"batchItemFailures": []}
    runs = ingest_queue.pending_ingest_runs(lake)
    assert sorted(f.symbol for r in runs for f in r.fetches) == ["AAPL", "IBM", "MSFT"]
    assert all(layout.is_drop_run(r.run_id) for r in runs)
    started = workflow_runs()
    assert len(started) == 2
    props = [boto3.client("glue", region_name=REGION).get_workflow_run_properties(
        Name=WORKFLOW, RunId=w["WorkflowRunId"])["RunProperties"]["run_id"] for w in started]
    assert sorted(props) == sorted(r.run_id for r in runs)  # each workflow run publishes its drop
    assert lake.list_keys(layout.INBOX_PREFIX) == []  # moved out of the inbox, bytes kept under drops/
    assert len(lake.list_keys(layout.DROP_RECEIVED_PREFIX)) == 2


def test_a_replayed_batch_and_a_second_drop_of_the_same_file_change_nothing(lake):
    lake.put_bytes("inbox/IBM.csv", AV)
    invoke(lake, record("m1", "inbox/IBM.csv"))
    before = {k: lake.get_bytes(k) for k in lake.list_keys("") if not k.startswith("runs/")}
    assert invoke(lake, record("m1", "inbox/IBM.csv")) == {"batchItemFailures": []}  # the object is gone
    lake.put_bytes("inbox/IBM-again.csv", AV)  # the same bytes under another name
    ingest_queue.mark_published(lake, ingest_queue.pending_ingest_runs(lake), by_run_id="wap")
    before.update({k: lake.get_bytes(k) for k in lake.list_keys(layout.PUBLISHED_MARKER_PREFIX)})
    assert invoke(lake, record("m2", "inbox/IBM-again.csv")) == {"batchItemFailures": []}
    assert {k: lake.get_bytes(k) for k in lake.list_keys("") if not k.startswith("runs/")} == before
    assert len(workflow_runs()) == 1


def test_the_same_content_dropped_again_before_it_is_published_starts_no_second_workflow_run(lake):
    """The first drop's workflow run publishes it; a second start would only run the WAP again (or,
    with the workflow's one run at a time, fail the message until the first ends)."""
    lake.put_bytes("inbox/IBM.csv", AV)
    assert invoke(lake, record("m1", "inbox/IBM.csv")) == {"batchItemFailures": []}
    lake.put_bytes("inbox/IBM copy.csv", AV)  # the same bytes again, the first run still going
    assert invoke(lake, record("m2", "inbox/IBM copy.csv")) == {"batchItemFailures": []}
    assert len(workflow_runs()) == 1
    assert lake.list_keys(layout.INBOX_PREFIX) == []
    assert len(ingest_queue.pending_ingest_runs(lake)) == 1


def test_a_bad_file_is_moved_to_rejected_with_its_reason_and_the_message_succeeds(lake):
    lake.put_bytes("inbox/IBM.csv", AV.replace(b"10.0,11.0", b"10.0,n/a"))
    assert invoke(lake, record("m1", "inbox/IBM.csv")) == {"batchItemFailures": []}
    [reason] = [k for k in lake.list_keys(layout.DROP_REJECTED_PREFIX) if k.endswith(".reason")]
    assert "row 2, column high: 'n/a' is not a number" in lake.get_bytes(reason).decode()
    assert lake.get_bytes(reason[: -len(".reason")]) == AV.replace(b"10.0,11.0", b"10.0,n/a")
    assert lake.list_keys(layout.INBOX_PREFIX) == [] and lake.list_keys("raw/") == []
    assert workflow_runs() == []


def test_a_message_that_is_not_an_s3_event_fails_alone_and_other_prefixes_are_ignored(lake):
    lake.put_bytes("inbox/IBM.csv", AV)
    poison = {"messageId": "bad", "receiptHandle": "rh", "body": "{not json"}
    answer = invoke(lake, poison, record("other", "raw/daily/x.csv"), record("good", "inbox/IBM.csv"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert len(ingest_queue.pending_ingest_runs(lake)) == 1


class BusyGlue:
    def start_workflow_run(self, **kwargs):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ConcurrentRunsExceededException", "Message": "busy"}},
                          "StartWorkflowRun")


def test_a_busy_workflow_returns_the_message_and_the_retry_starts_it_without_landing_twice(lake):
    lake.put_bytes("inbox/IBM.csv", AV)
    assert invoke(lake, record("m1", "inbox/IBM.csv"), glue=BusyGlue()) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert lake.list_keys(layout.INBOX_PREFIX) == ["inbox/IBM.csv"]  # kept for the retry
    assert invoke(lake, record("m1", "inbox/IBM.csv")) == {"batchItemFailures": []}
    assert len(ingest_queue.pending_ingest_runs(lake)) == 1 and len(workflow_runs()) == 1
    assert lake.list_keys(layout.INBOX_PREFIX) == []
    # the workflow run is the drop's own run, as when the first start succeeds
    (run,) = workflow_runs()
    (pending,) = ingest_queue.pending_ingest_runs(lake)
    assert run["WorkflowRunProperties"]["run_id"] == pending.run_id


def test_a_misconfigured_function_fails_every_message(lake):
    answer = drop_loader.handler({"Records": [record("m1", "inbox/IBM.csv")]}, None, env={})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
