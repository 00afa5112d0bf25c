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
    aws_kind: str  # "lambda", "crawler" or "pythonshell"


STAGES: tuple[Stage, ...] = (
    Stage("ingest", "ingestion.stage", None, "lambda"),
    Stage("crawl", "glue_jobs.wap.crawl", "ingest", "crawler"),
    Stage("drop_temp", "glue_jobs.wap.drop_temp", "crawl", "pythonshell"),
    Stage("write_temp", "glue_jobs.wap.write_temp", "drop_temp", "pythonshell"),
    Stage("audit", "glue_jobs.audit.stage", "write_temp", "pythonshell"),
    Stage("publish", "glue_jobs.wap.publish", "audit", "pythonshell"),
    Stage("after_publish", "glue_jobs.after.stage", "publish", "pythonshell"),
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


def glue_edges() -> list[tuple[str, str]]:
    """(upstream, downstream) pairs that the Glue workflow must reproduce (ingest is the Lambda,
    which starts the workflow, so it is not an edge inside it)."""
    return [(s.after, s.name) for s in STAGES if s.after and s.after != "ingest"]
