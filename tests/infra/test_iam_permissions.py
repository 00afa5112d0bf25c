"""The permission check moto cannot do: run each role's code on moto, record every AWS call it
makes, map each to its IAM action and resource, and fail when that role's policy in
infra/template.yaml would refuse it. Plus what Athena itself calls with the job's credentials
(not visible to moto), checked against the AWS documentation."""
from __future__ import annotations

import sys
import types

import boto3
import pytest

from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.lake import tables, trading_calendar
from glue_jobs.lake.errors import EXIT_AUDIT_BLOCKED, AuditBlocked
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.iam_policy import ACCOUNT, REGION, CallRecorder, Names, RolePolicies, denied
from workflows.entry import glue_stage, lambda_handler

BUCKET = "tickerlake-test-lake"
STACK = "tickerlake"
KEY = "PERMCHECKKEY-91ab"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
LAKE = f"arn:aws:s3:::{BUCKET}"
RUN_ID = "20261120T220001Z-abc123"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture
def lambda_calls(s3, monkeypatch):
    """The ingestion Lambda's calls for one weekday run, with a quota-capped key (rejected bodies too)."""
    clear_cache()
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="tickerlake-ApiKeySecret-abc", SecretString=KEY)["ARN"]
    boto3.client("glue", region_name=REGION).create_workflow(Name=f"{STACK}-wap")
    as_of = trading_calendar.latest_completed_session()
    server = FakeAlphaVantage(api_key=KEY, as_of=as_of).start()
    server.daily_limit = 2
    for name, value in {
        "TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_SOURCE": "alphavantage",
        "TICKERLAKE_SYMBOLS": "AAPL,MSFT,IBM", "TICKERLAKE_CALLS_PER_MINUTE": "1000", "TICKERLAKE_MIN_INTERVAL_S": "0",
        "TICKERLAKE_WORKFLOW_NAME": f"{STACK}-wap", "ALPHAVANTAGE_SECRET_ID": secret_arn,
        "ALPHAVANTAGE_BASE_URL": server.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    recorder = CallRecorder()
    try:
        with recorder.recording():
            lambda_handler.handler({"trigger": "schedule", "as_of": as_of.isoformat()}, Context())
    finally:
        server.stop()
        clear_cache()
    return recorder.calls, Names(stack=STACK, bucket=BUCKET, secret_arn=secret_arn)


def test_the_ingest_role_allows_every_call_the_lambda_makes(lambda_calls):
    calls, names = lambda_calls
    assert {(c.service, c.operation) for c in calls} >= {
        ("secretsmanager", "GetSecretValue"), ("s3", "PutObject"), ("glue", "StartWorkflowRun")}
    refused = denied(RolePolicies.from_template(names), "IngestRole", calls, names)
    assert refused == [], "\n".join(refused)


def test_the_check_names_a_call_the_policy_does_not_allow(lambda_calls):
    calls, names = lambda_calls
    refused = denied(RolePolicies.from_template(names).without("IngestRole", "s3:PutObject"), "IngestRole", calls, names)
    assert any(r.startswith(f"s3:PutObject on {LAKE}/raw/daily/") for r in refused), refused
    # and an operation nobody mapped fails loudly instead of passing
    from tests.support.iam_policy import Call, iam_requests

    with pytest.raises(NotImplementedError, match="no IAM mapping"):
        iam_requests(Call("s3", "PutBucketPolicy", {"Bucket": BUCKET}), names)


@pytest.fixture
def glue_stack(s3, glue):
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="tickerlake-AlertsTopic")["TopicArn"]
    glue.create_workflow(Name=f"{STACK}-wap")
    run = glue.start_workflow_run(Name=f"{STACK}-wap", RunProperties={"run_id": RUN_ID, "as_of": "2026-11-20"})
    args = ["--JOB_NAME", f"{STACK}-x", "--lake", f"s3://{BUCKET}", "--workgroup", STACK, "--topic_arn", topic,
            "--WORKFLOW_NAME", f"{STACK}-wap", "--WORKFLOW_RUN_ID", run["RunId"], "--library-set", "analytics"]
    return types.SimpleNamespace(args=args, names=Names(stack=STACK, bucket=BUCKET, topic_arn=topic))


def test_the_drop_temp_role_allows_every_call_of_the_drop_temp_job(glue_stack, s3, glue):
    storage = S3Storage(BUCKET, client=s3)
    catalog = GlueCatalog(storage.root, client=glue)
    old = tables.temp_prices("20261119T220001Z-000000")
    catalog.create_table(old)
    storage.put_bytes(old.location + "part-0.parquet", b"PAR1")
    recorder = CallRecorder()
    with recorder.recording():
        assert glue_stage.main(["--stage", "drop_temp", *glue_stack.args], session=boto3.session.Session()) == 0
    assert ("glue", "DeleteTable") in {(c.service, c.operation) for c in recorder.calls}
    names = glue_stack.names
    assert denied(RolePolicies.from_template(names), "DropTempRole", recorder.calls, names) == []


def test_the_audit_role_allows_what_a_blocked_audit_calls(glue_stack, monkeypatch):
    def blocked(ctx):
        raise AuditBlocked("quarantine share 40% is above the 5% threshold: nothing was published")

    monkeypatch.setitem(sys.modules, "glue_jobs.audit.stage", types.SimpleNamespace(run=blocked))
    recorder = CallRecorder()
    with recorder.recording():
        code = glue_stage.main(["--stage", "audit", *glue_stack.args], session=boto3.session.Session())
    assert code == EXIT_AUDIT_BLOCKED
    assert ("sns", "Publish") in {(c.service, c.operation) for c in recorder.calls}
    names = glue_stack.names
    assert denied(RolePolicies.from_template(names), "AuditRole", recorder.calls, names) == []


# ---------------------------------------------------------------------------------------------
# What Athena and the crawler call with the role's credentials: moto never sees these calls.
# ---------------------------------------------------------------------------------------------

JOB_ROLES = ["DropTempRole", "WriteTempRole", "AuditRole", "PublishRole", "AfterPublishRole"]


@pytest.fixture(scope="module")
def policies() -> RolePolicies:
    return RolePolicies.from_template(Names(stack=STACK, bucket=BUCKET))


@pytest.mark.parametrize("role", JOB_ROLES)
def test_every_role_that_queries_athena_may_open_the_catalog_and_the_default_database(policies, role):
    # https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html
    # ("Configure AWS Glue access to your catalog and database per AWS Region")
    assert policies.allows(role, "athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{STACK}")
    for action in ("glue:GetDatabase", "glue:GetDatabases"):
        for resource in (f"{GLUE}:catalog", f"{GLUE}:database/default", f"{GLUE}:database/stocks"):
            assert policies.allows(role, action, resource), f"{role} lacks {action} on {resource}"
    for action in ("glue:GetTable", "glue:GetTables", "glue:GetPartitions"):
        assert policies.allows(role, action, f"{GLUE}:table/stocks/daily_prices"), f"{role} lacks {action}"


@pytest.mark.parametrize("role", JOB_ROLES)
def test_athena_may_write_large_results_as_multipart_uploads_for_every_role(policies, role):
    # Athena's own managed policy grants these on query-result locations (AmazonAthenaFullAccess).
    assert policies.allows(role, "s3:ListBucketMultipartUploads", LAKE), role
    assert policies.allows(role, "s3:GetBucketLocation", LAKE), role
    for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"):
        assert policies.allows(role, action, f"{LAKE}/athena-results/abc.csv"), f"{role} lacks {action}"


@pytest.mark.parametrize("role, key", [
    ("WriteTempRole", "tmp/prices/run_id=R/part-0.parquet"),
    ("AuditRole", "tmp/quarantine/run_id=R/part-0.parquet"),
    ("PublishRole", "warehouse/daily_prices/trade_year=2026/v=R/part-0.parquet"),
    ("AfterPublishRole", "warehouse/pipeline_runs/run_id=R/part-0.parquet"),
    ("AfterPublishRole", "warehouse/symbol_years/trade_year=2026/v=R/part-0.parquet"),
])
def test_where_a_role_writes_through_athena_it_may_also_list_and_abort_the_parts(policies, role, key):
    for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"):
        assert policies.allows(role, action, f"{LAKE}/{key}"), f"{role} lacks {action} on {key}"


def test_after_publish_may_keep_the_symbol_years_in_step_but_not_touch_the_prices(policies):
    # glue_jobs/lake/symbol_years.py sync: its S3 and Glue calls through the ports
    key = f"{LAKE}/warehouse/symbol_years/trade_year=2026/v=R/_manifest.json"
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert policies.allows("AfterPublishRole", action, key), action
    table = f"{GLUE}:table/stocks/symbol_years"
    for action in ("glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartitions",
                   "glue:BatchUpdatePartition", "glue:BatchCreatePartition", "glue:BatchDeletePartition"):
        assert policies.allows("AfterPublishRole", action, table), action
    prices = f"{LAKE}/warehouse/daily_prices/trade_year=2026/v=R/part-0.parquet"
    assert policies.allows("AfterPublishRole", "s3:GetObject", prices)
    assert not policies.allows("AfterPublishRole", "s3:PutObject", prices)
    assert not policies.allows("AfterPublishRole", "glue:BatchUpdatePartition", f"{GLUE}:table/stocks/daily_prices")


def test_write_temp_may_read_the_published_prices_but_not_write_them(policies):
    # wap/write_temp/changed_rows.sql joins stocks.daily_prices: Athena reads its objects with
    # the job's credentials (issue 15: bars identical to what is published are left out)
    key = f"{LAKE}/warehouse/daily_prices/trade_year=2026/v=R/part-0.parquet"
    assert policies.allows("WriteTempRole", "s3:GetObject", key)
    assert not policies.allows("WriteTempRole", "s3:PutObject", key)
    assert not policies.allows("WriteTempRole", "s3:GetObject", f"{LAKE}/warehouse/daily_prices_quarantine/x.parquet")


def test_the_crawler_may_find_its_buckets_region_and_list_only_the_raw_zone(policies):
    assert policies.allows("CrawlerRole", "s3:GetBucketLocation", LAKE)
    assert policies.allows("CrawlerRole", "s3:ListBucket", LAKE, {"s3:prefix": "raw/daily/ingest_date=2026-11-20/"})
    assert not policies.allows("CrawlerRole", "s3:ListBucket", LAKE, {"s3:prefix": "warehouse/"})
    assert not policies.allows("CrawlerRole", "s3:GetObject", f"{LAKE}/warehouse/daily_prices/x.parquet")


@pytest.mark.parametrize("stage, role", [
    ("write_temp", "WriteTempRole"), ("publish", "PublishRole"), ("after_publish", "AfterPublishRole"),
])
def test_every_job_role_allows_what_the_glue_entry_script_calls_around_its_stage(glue_stack, monkeypatch, stage, role):
    """The entry script's own calls (run properties, lock, run log, manifests) for the stages whose
    work needs a real Athena: the stage body is a stand-in here, the permission check is not."""
    from workflows import graph

    (module,) = [s.module for s in graph.STAGES if s.name == stage]
    monkeypatch.setitem(sys.modules, module, types.SimpleNamespace(run=lambda ctx: {"rows": 0}))
    recorder = CallRecorder()
    with recorder.recording():
        assert glue_stage.main(["--stage", stage, *glue_stack.args], session=boto3.session.Session()) == 0
    assert ("glue", "GetWorkflowRunProperties") in {(c.service, c.operation) for c in recorder.calls}
    names = glue_stack.names
    refused = denied(RolePolicies.from_template(names), role, recorder.calls, names)
    assert refused == [], "\n".join(refused)
