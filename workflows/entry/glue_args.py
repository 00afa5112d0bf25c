"""Glue's job arguments without the awsglue library (it exists only inside Glue).

Glue starts a Python shell script as `script.py --KEY value --OTHER value ...`: the job's
default arguments, the run's own arguments and Glue's (`--JOB_NAME`, `--JOB_RUN_ID`,
`--WORKFLOW_NAME`, `--WORKFLOW_RUN_ID`, ...). Keys are kept as given, without the dashes."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from glue_jobs.lake.errors import ConfigError
from workflows import graph


def parse_glue_args(argv: Sequence[str]) -> dict[str, str]:
    """`--KEY value` and `--KEY=value` pairs; a key followed by another key (or nothing) is
    "true". Positional words that follow no key are refused, so a typo cannot pass silently."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        if not word.startswith("--") or len(word) < 3:
            raise ConfigError(f"unexpected argument {word!r}: Glue job arguments are --KEY value pairs")
        key, eq, value = word[2:].partition("=")
        if eq:
            out[key] = value
            i += 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            out[key] = argv[i + 1]
            i += 2
        else:
            out[key] = "true"
            i += 1
    return out


@dataclass(frozen=True)
class StageArgs:
    stage: str
    lake: str
    workgroup: str
    topic_arn: str | None
    workflow_name: str | None
    workflow_run_id: str | None
    run_id: str | None  # given directly (a run by hand); else from the workflow run properties
    as_of: dt.date | None


def _date(value: str, name: str) -> dt.date:
    # Python 3.11 also accepts 20261120; Glue's 3.9 does not: insist on one spelling everywhere.
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a date: expected YYYY-MM-DD") from None


def stage_args(args: Mapping[str, str]) -> StageArgs:
    """Validate what one stage job needs; every message names the missing argument."""
    stage = args.get("stage", "")
    runnable = [s.name for s in graph.STAGES if s.aws_kind == "pythonshell"]
    if stage not in runnable:
        raise ConfigError(f"--stage {stage!r} is not a Glue job stage: use one of {', '.join(runnable)}")
    for name in ("lake", "workgroup"):
        if not args.get(name):
            raise ConfigError(f"--{name} is missing: the stack sets it in the job's default arguments")
    in_workflow = bool(args.get("WORKFLOW_NAME") and args.get("WORKFLOW_RUN_ID"))
    if not in_workflow and not (args.get("run_id") and args.get("as_of")):
        raise ConfigError(
            "this job runs outside its workflow: pass --run_id and --as_of (the ingest run to process), "
            "or start the workflow, which hands them over as run properties"
        )
    return StageArgs(
        stage=stage,
        lake=args["lake"],
        workgroup=args["workgroup"],
        topic_arn=args.get("topic_arn") or None,
        workflow_name=args.get("WORKFLOW_NAME") or None,
        workflow_run_id=args.get("WORKFLOW_RUN_ID") or None,
        run_id=args.get("run_id") or None,
        as_of=_date(args["as_of"], "--as_of") if args.get("as_of") else None,
    )


def run_identity(properties: Mapping[str, str], workflow: str) -> tuple[str, dt.date]:
    """run_id and as_of from a workflow run's properties (the Lambda sets them when it starts it)."""
    run_id = (properties.get("run_id") or "").strip()
    as_of = (properties.get("as_of") or "").strip()
    if not run_id or not as_of:
        raise ConfigError(
            f"workflow {workflow} was started without the run properties run_id and as_of: start it from "
            "the ingestion Lambda, or with `aws glue start-workflow-run --run-properties run_id=...,as_of=...`"
        )
    return run_id, _date(as_of, "run property as_of")


# Settings a WAP stage reads from its run's settings (sql/wap/audit/daily_prices.yml names the
# audit's): given to a job as --audit_... arguments (the job's defaults) or as workflow run
# properties (the Lambda passes its TICKERLAKE_AUDIT_* there), the run's properties winning.
STAGE_SETTING_PREFIXES = ("audit_",)


def stage_settings(args: Mapping[str, str], properties: Mapping[str, str] | None = None) -> dict[str, str]:
    """The stage settings among a job's arguments and its workflow run's properties."""
    out = {k: v for k, v in args.items() if k.startswith(STAGE_SETTING_PREFIXES) and v != ""}
    out.update({k: v for k, v in (properties or {}).items() if k.startswith(STAGE_SETTING_PREFIXES) and v != ""})
    return out
