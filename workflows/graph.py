"""The stage graph, declared once. The local runner walks it and the Glue workflow in
infra/ is checked against it by a test, so neither can change without the other."""
from __future__ import annotations

from dataclasses import dataclass

from glue_jobs.lake.stage_names import STAGE_NAMES


@dataclass(frozen=True)
class Stage:
    name: str  # CLI / run-log name
    module: str  # the module whose run(ctx) runs it
    after: str | None  # the stage that must have SUCCEEDED first
    aws_kind: str  # "lambda", "crawler", "pythonshell" or "inline" (runs in the Glue job of the stage before it)


STAGES: tuple[Stage, ...] = (
    Stage("ingest", "ingestion.stage", None, "lambda"),
    Stage("crawl", "glue_jobs.wap.crawl", "ingest", "crawler"),
    Stage("drop_temp", "glue_jobs.wap.drop_temp", "crawl", "pythonshell"),
    Stage("write_temp", "glue_jobs.wap.write_temp", "drop_temp", "pythonshell"),
    Stage("audit", "glue_jobs.audit.stage", "write_temp", "pythonshell"),
    Stage("publish", "glue_jobs.wap.publish", "audit", "pythonshell"),
    # On AWS serve only checks the published manifest is there (its creation is the event the
    # loader Lambda acts on): seconds of work, so it rides in publish's job, not a job of its own.
    Stage("serve", "glue_jobs.serve.stage", "publish", "inline"),
    Stage("after_publish", "glue_jobs.after.stage", "serve", "pythonshell"),
)

WAP_STAGES = ("drop_temp", "write_temp", "audit", "publish")

if tuple(s.name for s in STAGES) != STAGE_NAMES:  # the run log and ledger columns follow these names
    raise ImportError(f"workflows/graph.py stages {[s.name for s in STAGES]} differ from "
                      f"glue_jobs/lake/stage_names.py {list(STAGE_NAMES)}: change both")

BY_NAME = {s.name: s for s in STAGES}


def ordered(names: tuple[str, ...] | list[str] | None = None) -> list[Stage]:
    """Stages in dependency order, optionally only those named."""
    if names is None:
        return list(STAGES)
    unknown = set(names) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown stage(s): {', '.join(sorted(unknown))}; known: {', '.join(BY_NAME)}")
    return [s for s in STAGES if s.name in names]


def _host(name: str) -> str:
    """The stage whose Glue job runs `name`: itself, or for an inline stage the job before it."""
    stage = BY_NAME[name]
    while stage.aws_kind == "inline" and stage.after:
        stage = BY_NAME[stage.after]
    return stage.name


def job_stages(name: str) -> list[str]:
    """The stages one Glue job runs: its own, then the inline stages that follow it."""
    return [name] + [s.name for s in STAGES if s.aws_kind == "inline" and _host(s.name) == name]


def glue_edges() -> list[tuple[str, str]]:
    """(upstream, downstream) pairs that the Glue workflow must reproduce (ingest is the Lambda,
    which starts the workflow, so it is not an edge inside it; an inline stage is part of the job
    before it, so the edge runs from that job)."""
    return [(_host(s.after), s.name) for s in STAGES
            if s.after and s.after != "ingest" and s.aws_kind != "inline"]
