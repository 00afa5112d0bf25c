"""Settings reach the Glue jobs: a threshold set where a deployment sets it (the ingest Lambda's
TICKERLAKE_AUDIT_* environment, or a job's --audit_* default argument) is what the audit job
computes its limits from, on moto, through the Lambda handler and the Glue entry script."""
from __future__ import annotations

import boto3
import pytest

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit import stage as audit_stage
from tests.workflows.entry.test_lambda_handler import BUCKET, WORKFLOW, FakeContext, deployed  # noqa: F401
from workflows.entry import glue_stage, lambda_handler

RULE = "quarantine_share_below_threshold"


@pytest.fixture
def audit_sees(monkeypatch):
    """The audit job's run, standing in for the queries moto's Athena cannot answer: it keeps
    the limits the real audit derives from its context (audit_rules.thresholds, as the stage
    calls it) and what the run was started with."""
    seen: dict = {}

    def run(ctx):
        seen["limits"] = audit_rules.thresholds(audit_rules.load_rules(), ctx.settings)
        seen["symbols"] = ctx.settings.get("symbols")
        return {}

    monkeypatch.setattr(audit_stage, "run", run)
    return seen


def _audit_job(workflow_run_id: str, *extra: str) -> int:
    args = ["--stage", "audit", "--lake", f"s3://{BUCKET}", "--workgroup", "tl",
            "--WORKFLOW_NAME", WORKFLOW, "--WORKFLOW_RUN_ID", workflow_run_id, *extra]
    return glue_stage.main(args, session=boto3.session.Session())


def test_the_lambdas_audit_threshold_reaches_the_glue_audit_job(deployed, monkeypatch, audit_sees):  # noqa: F811
    monkeypatch.setenv("TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE", "0.37")
    summary = lambda_handler.handler({}, FakeContext())
    assert _audit_job(summary["workflow_run_id"]) == 0
    assert audit_sees["limits"][RULE]["max_share"] == 0.37  # the rule book's default is 0.05
    assert audit_sees["symbols"] == ["AAPL", "MSFT", "IBM", "NVDA"]  # what the Lambda fetched


def test_a_jobs_default_argument_applies_unless_the_run_sets_its_own(deployed, monkeypatch, audit_sees):  # noqa: F811
    summary = lambda_handler.handler({}, FakeContext())
    assert _audit_job(summary["workflow_run_id"], "--audit_max_quarantine_share", "0.2") == 0
    assert audit_sees["limits"][RULE]["max_share"] == 0.2

    monkeypatch.setenv("TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE", "0.3")
    later = lambda_handler.handler({}, FakeContext())
    assert _audit_job(later["workflow_run_id"], "--audit_max_quarantine_share", "0.2") == 0
    assert audit_sees["limits"][RULE]["max_share"] == 0.3


def test_without_any_setting_the_audit_keeps_the_rule_books_default(deployed, audit_sees):  # noqa: F811
    summary = lambda_handler.handler({}, FakeContext())
    assert _audit_job(summary["workflow_run_id"]) == 0
    assert audit_sees["limits"][RULE]["max_share"] == 0.05
