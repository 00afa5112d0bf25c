"""`make smoke`: against a deployed stack, one symbol through Lambda, workflow and Athena, each
step printed; exit 2 before any call when there is no stack or no credentials."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from workflows import smoke

AS_OF = dt.date(2026, 11, 20)
OUTPUTS = {"IngestFunctionName": "tl-ingest", "GlueWorkflowName": "tl-wap", "AthenaWorkGroupName": "tl",
           "GlueDatabaseName": "stocks", "LakeBucketName": "tl-lake"}


def job_node(name, state, error=None):
    run = {"JobRunState": state, **({"ErrorMessage": error} if error else {})}
    return {"Type": "JOB", "Name": name, "JobDetails": {"JobRuns": [run]}}


class StubChain:
    """Our chain's steps, scripted: what each returns, and the calls made, in order."""

    def __init__(self, runs, rows=None, summary=None):
        self.runs = list(runs)
        self.rows = rows or {"n_rows": 100, "on_day": 1, "last_day": AS_OF}
        self.summary = summary or {"run_id": "R1", "status": "ok", "counts": {"fetched": 1},
                                   "workflow_run_id": "wr-1"}
        self.calls = []

    def whoami(self):
        self.calls.append("whoami")
        return "account 123456789012, region us-east-1"

    def stack_outputs(self, stack):
        self.calls.append(("stack_outputs", stack))
        return dict(OUTPUTS)

    def invoke_ingest(self, function, payload):
        self.calls.append(("invoke", function, payload))
        return self.summary

    def workflow_run(self, workflow, run_id):
        self.calls.append(("workflow_run", workflow, run_id))
        return self.runs.pop(0)

    def rows_of(self, lake, workgroup, database, symbol, as_of):
        self.calls.append(("rows_of", lake, workgroup, database, symbol, as_of))
        return self.rows


def run(argv, chain):
    lines = []
    code = smoke.main(argv, chain=chain, say=lines.append, sleep=lambda s: None, today=dt.date(2026, 11, 23))
    return code, lines


def test_the_smoke_run_goes_lambda_then_workflow_then_athena_printing_each_step():
    chain = StubChain([
        {"Status": "RUNNING", "Graph": {"Nodes": [{"Type": "CRAWLER", "Name": "tl-crawl-raw",
                                                   "CrawlerDetails": {"Crawls": [{"State": "RUNNING"}]}}]}},
        {"Status": "COMPLETED", "Statistics": {"FailedActions": 0},
         "Graph": {"Nodes": [job_node("tl-audit", "SUCCEEDED"), job_node("tl-publish", "SUCCEEDED")]}},
    ])
    code, lines = run(["--stack", "tl", "--symbol", "ibm"], chain)
    assert code == 0, lines
    assert [c if isinstance(c, str) else c[0] for c in chain.calls] == [
        "whoami", "stack_outputs", "invoke", "workflow_run", "workflow_run", "rows_of"]
    # the session before Monday 2026-11-23 is Friday 2026-11-20; the symbol is upper-cased
    assert chain.calls[2] == ("invoke", "tl-ingest", {"symbols": "IBM", "as_of": "2026-11-20"})
    assert chain.calls[3] == ("workflow_run", "tl-wap", "wr-1")
    assert chain.calls[5] == ("rows_of", "s3://tl-lake", "tl", "stocks", "IBM", AS_OF)
    text = "\n".join(lines)
    for step in ("1/5 credentials", "2/5 stack tl", "3/5 ingest: run R1", "tl-crawl-raw RUNNING",
                 "tl-publish SUCCEEDED", "5/5 athena: 100 rows of IBM", "smoke passed"):
        assert step in text
    assert text.index("3/5") < text.index("4/5") < text.index("5/5")


def test_a_failed_job_stops_the_smoke_run_naming_it_and_athena_is_not_asked():
    chain = StubChain([{"Status": "COMPLETED", "Statistics": {"FailedActions": 1},
                        "Graph": {"Nodes": [job_node("tl-write-temp", "FAILED", "ModuleNotFoundError: x")]}}])
    code, lines = run(["--stack", "tl", "--as-of", "2026-11-20"], chain)
    assert code == 1
    assert "tl-write-temp FAILED (ModuleNotFoundError: x)" in lines[-1]
    assert "runs/R1.json" in lines[-1]
    assert not [c for c in chain.calls if c[0] == "rows_of"]


def test_no_row_for_the_day_in_athena_fails_the_smoke_run():
    chain = StubChain([{"Status": "COMPLETED", "Graph": {"Nodes": []}}],
                      rows={"n_rows": 99, "on_day": 0, "last_day": dt.date(2026, 11, 19)})
    code, lines = run(["--stack", "tl", "--as-of", "2026-11-20"], chain)
    assert code == 1
    assert "no row of IBM for 2026-11-20" in lines[-1]


def test_a_lambda_that_started_no_workflow_run_fails_the_smoke_run():
    chain = StubChain([], summary={"run_id": "R1", "status": "ok", "workflow_run_id": None})
    code, lines = run(["--stack", "tl"], chain)
    assert code == 1
    assert "started no workflow run" in lines[-1]


def test_a_bad_symbol_or_date_is_refused_before_any_call():
    for argv, words in ((["--symbol", "IBM'; DROP"], "--symbol"), (["--as-of", "20-11-2026"], "YYYY-MM-DD")):
        chain = StubChain([])
        code, lines = run(argv, chain)
        assert code == 2 and words in lines[-1]
        assert chain.calls == []


def test_no_credentials_exit_2_with_what_to_do(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    lines = []
    code = smoke.main(["--stack", "tl"], chain=smoke.AwsChain(boto3.session.Session()), say=lines.append)
    assert code == 2
    assert "no AWS credentials found" in lines[-1] and "aws configure" in lines[-1]


def session_with_cloudformation(answer):
    """A moto session whose CloudFormation answers as scripted (moto's own needs extras this
    project does not install): describe_stacks either refuses or returns `answer`."""
    session = boto3.session.Session()
    cfn = session.client("cloudformation")
    stubber = Stubber(cfn)
    if isinstance(answer, str):
        stubber.add_client_error("describe_stacks", service_error_code="ValidationError", service_message=answer,
                                 http_status_code=400)
    else:
        stubber.add_response("describe_stacks", {"Stacks": [answer]})
    stubber.activate()
    real = session.client
    session.client = lambda name, **kw: cfn if name == "cloudformation" else real(name, **kw)
    return session


def test_no_stack_exit_2_naming_it_and_make_deploy(aws):
    # CloudFormation's words for a missing stack
    session = session_with_cloudformation("Stack with id nope does not exist")
    lines = []
    code = smoke.main(["--stack", "nope"], chain=smoke.AwsChain(session), say=lines.append)
    assert code == 2
    assert "no stack named 'nope' in us-east-1" in lines[-1] and "make deploy" in lines[-1]
    assert lines[0].startswith("1/5 credentials: account ")  # sts on moto


def test_a_stack_without_tickerlakes_outputs_exit_2_naming_them(aws):
    stack = {"StackName": "other", "CreationTime": dt.datetime(2026, 11, 1), "StackStatus": "CREATE_COMPLETE",
             "Outputs": [{"OutputKey": "LakeBucketName", "OutputValue": "x"}]}
    lines = []
    code = smoke.main(["--stack", "other"], chain=smoke.AwsChain(session_with_cloudformation(stack)),
                      say=lines.append)
    assert code == 2
    assert "has no output IngestFunctionName, GlueWorkflowName" in lines[-1]


def test_a_stack_still_deploying_exit_2(aws):
    stack = {"StackName": "tl", "CreationTime": dt.datetime(2026, 11, 1), "StackStatus": "UPDATE_IN_PROGRESS"}
    lines = []
    code = smoke.main(["--stack", "tl"], chain=smoke.AwsChain(session_with_cloudformation(stack)), say=lines.append)
    assert code == 2 and "is UPDATE_IN_PROGRESS" in lines[-1]


@pytest.mark.parametrize("today, expected", [(dt.date(2026, 11, 23), dt.date(2026, 11, 20)),
                                             (dt.date(2026, 11, 27), dt.date(2026, 11, 25))])
def test_the_default_day_is_the_last_session_closed_before_today(today, expected):
    assert smoke.default_as_of(today) == expected  # 2026-11-26 is Thanksgiving
