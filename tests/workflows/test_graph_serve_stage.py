"""The serve stage in the graph: after publish, before after_publish; on AWS it rides in
publish's Glue job (so the Glue workflow keeps publish -> after_publish), and the run log and
the ledger name it."""
from __future__ import annotations

from glue_jobs.lake import ledger
from glue_jobs.lake.stage_names import STAGE_NAMES
from workflows import graph


def test_serve_stage_runs_after_publish_and_before_after_publish():
    names = [s.name for s in graph.STAGES]
    assert names.index("publish") < names.index("serve") < names.index("after_publish")
    assert graph.BY_NAME["serve"].after == "publish" and graph.BY_NAME["after_publish"].after == "serve"
    assert STAGE_NAMES == tuple(names)
    assert "seconds_serve" in [c.name for c in ledger.pipeline_runs_table().columns]


def test_serve_stage_rides_in_publish_glue_job():
    assert graph.job_stages("publish") == ["publish", "serve"]
    assert graph.job_stages("audit") == ["audit"]
    edges = graph.glue_edges()
    assert ("publish", "after_publish") in edges
    assert not any("serve" in edge for edge in edges)
