"""The script every tickerlake Glue job runs (uploaded by `make deploy`; our wheel, from
--extra-py-files, and the pinned --additional-python-modules bring the rest). Its --stage argument picks the WAP stage:

    glue_stage.py --stage audit --lake s3://bucket --workgroup tickerlake [--topic_arn arn]
                  [--run_id R --as_of YYYY-MM-DD]     (outside a workflow: a run by hand)

Inside the workflow, run_id and as_of come from the workflow run's properties, which the
ingestion Lambda sets when it starts the run.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import AuditBlocked, ConfigError, PipelineError
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.notifier import Alert
from glue_jobs.runtime import lake_kind, open_runtime
from workflows import graph
from workflows.entry.glue_args import parse_glue_args, run_identity, stage_args, stage_settings
from workflows.runner import run_pipeline

log = logging.getLogger("tickerlake.glue")


def run_one_stage(stage: str, ctx: RunContext) -> dict:
    """Run one stage as one job of the workflow run, through the runner every stage goes
    through (workflows.runner.run_pipeline): under the lake lock, recorded in the run's log,
    which is closed when this stage fails or is the last one."""
    ctx.say = log.info
    # the inline stages after this one (serve after publish) run in this job: see workflows/graph.py
    return run_pipeline(ctx, graph.job_stages(stage), one_job_of_a_workflow=True).stages[stage]


def _failure_alert(stage: str, ctx: RunContext, exc: PipelineError) -> Alert:
    blocked = isinstance(exc, AuditBlocked)
    return Alert(
        rule="audit_blocked" if blocked else "run_failed",
        subject=f"tickerlake {stage} {'blocked the publish' if blocked else 'failed'} for run {ctx.run_id}",
        message=f"Stage {stage} of run {ctx.run_id} (as of {ctx.as_of}) stopped: {exc}\n"
        f"Nothing after {stage} ran. The run log is {ctx.storage.uri('runs/' + ctx.run_id + '.json')}.",
        run_id=ctx.run_id,
        details={"stage": stage, "exit_code": exc.exit_code},
    )


def main(argv: Sequence[str] | None = None, *, session: Any = None) -> int:
    """Run the stage the arguments name; returns the process exit code (errors.EXIT_*)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx = None
    stage = "?"
    try:
        args = parse_glue_args(list(sys.argv[1:] if argv is None else argv))
        parsed = stage_args(args)
        stage = parsed.stage
        if session is None:
            import boto3

            session = boto3.session.Session()
        properties: dict[str, str] = {}
        if parsed.workflow_name and parsed.workflow_run_id:
            properties = session.client("glue").get_workflow_run_properties(
                Name=parsed.workflow_name, RunId=parsed.workflow_run_id
            )["RunProperties"]
            run_id, as_of = run_identity(properties, parsed.workflow_name)
        else:
            run_id, as_of = parsed.run_id, parsed.as_of
        if lake_kind(parsed.lake) != "aws":
            raise ConfigError(f"--lake {parsed.lake!r}: on AWS the lake is an s3:// URI, e.g. s3://my-lake-bucket")
        runtime = open_runtime(parsed.lake, workgroup=parsed.workgroup, topic_arn=parsed.topic_arn, session=session)
        # What the run was started with (the Lambda records source, symbols and limits in the run
        # log), then this job's and this workflow run's stage settings (audit thresholds).
        recorded = RunLog.load_or_new(runtime.storage, run_id).get("settings") or {}
        settings = {**recorded, **stage_settings(args, properties), "workflow_run_id": parsed.workflow_run_id}
        ctx = runtime.context(run_id, as_of, settings=settings)
        log.info("stage %s of run %s (as of %s) on %s", stage, run_id, as_of, ctx.storage.root)
        result = run_one_stage(stage, ctx)
    except PipelineError as exc:
        log.error("stage %s failed: %s", stage, exc)
        if ctx is not None:
            try:
                ctx.notifier.send([_failure_alert(stage, ctx, exc)])
            except Exception:  # the stage's own error is what the job must report
                log.exception("could not send the failure alert")
        return exc.exit_code
    print(json.dumps({"stage": stage, "run_id": ctx.run_id, "result": result}, default=str, sort_keys=True))
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        # A non-zero exit fails the Glue job run, which stops the workflow there and fires
        # the stack's failure rule.
        raise SystemExit(code)
