"""A Glue job's entry script on moto: the workflow run's properties name the run, the stage
runs on the AWS adapters, the run log records it; a blocked stage exits with its code and alerts."""
from __future__ import annotations

import json
import sys
import types

import boto3
import pytest

from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import tables
from glue_jobs.lake.errors import EXIT_AUDIT_BLOCKED, EXIT_USAGE, AuditBlocked
from workflows.entry import glue_stage

BUCKET = "tickerlake-test-lake"
RUN_ID = "20261120T220001Z-abc123"


@pytest.fixture
def stack(s3, glue):
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    glue.create_workflow(Name="tl-wap")
    workflow_run = glue.start_workflow_run(Name="tl-wap", RunProperties={"run_id": RUN_ID, "as_of": "2026-11-20"})
    args = ["--JOB_NAME", "tl-x", "--lake", f"s3://{BUCKET}", "--workgroup", "tl", "--topic_arn", topic,
            "--WORKFLOW_NAME", "tl-wap", "--WORKFLOW_RUN_ID", workflow_run["RunId"], "--library-set", "analytics"]
    return types.SimpleNamespace(args=args, sqs=sqs, queue=queue, glue=glue)


def run_log(s3) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=f"runs/{RUN_ID}.json")["Body"].read())


def test_drop_temp_runs_on_aws_adapters_for_the_workflows_run(stack, s3, glue, capsys):
    storage = S3Storage(BUCKET, client=s3)
    catalog = GlueCatalog(storage.root, client=glue)
    old = tables.temp_prices("20261119T220001Z-000000")
    catalog.create_table(old)
    storage.put_bytes(old.location + "part-0.parquet", b"PAR1")
    catalog.create_table(tables.daily_prices())
    storage.put_bytes("warehouse/daily_prices/trade_year=2026/v=r1/part-0.parquet", b"PAR1")

    assert glue_stage.main(["--stage", "drop_temp", *stack.args], session=boto3.session.Session()) == 0

    assert catalog.list_tables("stocks") == ["daily_prices"]
    assert storage.list_keys("tmp/") == []
    assert storage.exists("warehouse/daily_prices/trade_year=2026/v=r1/part-0.parquet")
    doc = run_log(s3)
    stage = doc["stages"]["drop_temp"]
    assert stage["status"] == "succeeded"
    assert doc["status"] == "running"  # later stages still to come
    assert doc["stages"]["crawl"]["status"] == "succeeded"  # the trigger fired on the crawler's success
    assert stage["counts"]["tables_dropped"] == 1
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["run_id"] == RUN_ID and printed["stage"] == "drop_temp"
    assert not storage.exists("locks/pipeline.lock")  # released


def test_a_blocked_audit_exits_3_records_it_and_alerts(stack, s3, monkeypatch):
    def blocked(ctx):
        raise AuditBlocked("quarantine share 40% is above the 5% threshold: nothing was published")

    monkeypatch.setitem(sys.modules, "glue_jobs.audit.stage", types.SimpleNamespace(run=blocked))
    assert glue_stage.main(["--stage", "audit", *stack.args], session=boto3.session.Session()) == EXIT_AUDIT_BLOCKED
    doc = run_log(s3)
    assert doc["stages"]["audit"]["status"] == "blocked"
    assert doc["status"] == "blocked"  # the run ends here: nothing after audit runs
    (message,) = [json.loads(m["Body"]) for m in stack.sqs.receive_message(QueueUrl=stack.queue)["Messages"]]
    assert message["Subject"] == f"tickerlake audit blocked the publish for run {RUN_ID}"
    assert "quarantine share 40%" in message["Message"]


def test_a_hand_run_outside_the_workflow_needs_run_id_and_as_of(stack, s3):
    args = ["--stage", "drop_temp", "--lake", f"s3://{BUCKET}", "--workgroup", "tl"]
    assert glue_stage.main(args, session=boto3.session.Session()) == EXIT_USAGE
    assert glue_stage.main([*args, "--run_id", RUN_ID, "--as_of", "2026-11-20"],
                           session=boto3.session.Session()) == 0
    assert run_log(s3)["stages"]["drop_temp"]["status"] == "succeeded"


def test_a_workflow_started_without_run_properties_is_a_usage_error(stack, glue, caplog):
    bare = glue.start_workflow_run(Name="tl-wap")["RunId"]
    args = [a if a != stack.args[stack.args.index("--WORKFLOW_RUN_ID") + 1] else bare for a in stack.args]
    assert glue_stage.main(["--stage", "publish", *args], session=boto3.session.Session()) == EXIT_USAGE
    assert "started without the run properties run_id and as_of" in caplog.text


def test_the_last_stage_closes_the_run_log(stack, s3, monkeypatch):
    monkeypatch.setitem(sys.modules, "glue_jobs.after.stage",
                        types.SimpleNamespace(run=lambda ctx: {"views_refreshed": 4}))
    assert glue_stage.main(["--stage", "after_publish", *stack.args], session=boto3.session.Session()) == 0
    doc = run_log(s3)
    assert doc["status"] == "succeeded" and "finished_at" in doc
    assert doc["stages"]["after_publish"]["counts"] == {"views_refreshed": 4}
