"""The one executor: every stage, whoever starts it (the CLI, a Glue job, a test), runs through
workflows.runner.run_pipeline, which holds the lake lock and records the stage in the run log."""
from __future__ import annotations

import json

import pytest

from glue_jobs.lake import layout
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.lock import LakeLock
from glue_jobs.wap import publish
from workflows.runner import run_pipeline


def _log(ctx) -> dict:
    return json.loads(ctx.storage.get_bytes(layout.run_log_key(ctx.run_id)))


def test_a_failing_stage_is_recorded_and_a_retry_under_the_same_run_id_succeeds(ctx, monkeypatch):
    def boom(_ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "run", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_pipeline(ctx, ["publish"])
    doc = _log(ctx)
    assert doc["stages"]["publish"]["status"] == "failed" and doc["stages"]["publish"]["error"] == "disk full"
    assert doc["status"] == "failed"

    monkeypatch.setattr(publish, "run", lambda _ctx: {"published_rows": 4})
    outcome = run_pipeline(ctx, ["publish"])
    assert outcome.stages["publish"] == {"published_rows": 4}
    doc = _log(ctx)
    assert doc["stages"]["publish"]["status"] == "succeeded" and doc["status"] == "succeeded"


def test_a_stage_does_not_run_while_another_run_holds_the_lake(ctx, monkeypatch):
    ran = []
    monkeypatch.setattr(publish, "run", lambda _ctx: ran.append(1) or {})
    with LakeLock(ctx.storage, "20240308T000000Z-other"):
        with pytest.raises(LockHeld, match=r"is locked by .*20240308T000000Z-other.*wait for it to finish"):
            run_pipeline(ctx, ["publish"])
    assert ran == []


def test_one_job_of_a_workflow_continues_the_run_log_and_closes_it_only_at_the_last_stage(ctx, monkeypatch):
    monkeypatch.setattr(publish, "run", lambda _ctx: {"published_rows": 1})
    run_pipeline(ctx, ["publish"], one_job_of_a_workflow=True)
    doc = _log(ctx)
    assert doc["stages"]["publish"]["status"] == "succeeded"
    assert doc.get("finished_at") is None  # after_publish is still to come

    from glue_jobs.after import stage as after_publish

    monkeypatch.setattr(after_publish, "run", lambda _ctx: {"views_refreshed": 0})
    run_pipeline(ctx, ["after_publish"], one_job_of_a_workflow=True)
    doc = _log(ctx)
    assert doc["finished_at"] and doc["status"] == "succeeded"
    assert doc["stages"]["publish"]["status"] == "succeeded"  # the earlier job's record is kept


def _record_stages(monkeypatch, events, names):
    import importlib

    from workflows import graph

    for stage in graph.STAGES:
        if stage.name in names:
            monkeypatch.setattr(importlib.import_module(stage.module), "run",
                                lambda _ctx, name=stage.name: events.append(name) or {})


def test_a_local_run_that_audits_starts_its_ge_worker_before_ingest(ctx, monkeypatch):
    from glue_jobs.audit import warm

    events = []

    class Worker:
        def start(self):
            events.append("ge worker started")

        def let_go(self):
            events.append("ge worker let go")

    monkeypatch.setattr(warm, "start", lambda: events.append("ge imported in place"))
    names = ["ingest", "crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish"]
    _record_stages(monkeypatch, events, names)
    ctx.ge_worker = Worker()
    run_pipeline(ctx, names)
    # GE is imported in the worker, beside ingest; once the audit is done the worker ends beside
    # publish instead of at the run's exit
    assert events == ["ge worker started", *names[:5], "ge worker let go", *names[5:]]

    events.clear()  # a run that does not audit never pays for the import
    run_pipeline(ctx, ["crawl", "drop_temp", "write_temp"])
    assert events == ["crawl", "drop_temp", "write_temp"]


def test_a_run_without_a_worker_imports_ge_in_a_thread_after_ingest_and_before_crawl(ctx, monkeypatch):
    from glue_jobs.audit import warm

    events = []
    monkeypatch.setattr(warm, "start", lambda: events.append("ge import started"))
    names = ["ingest", "crawl", "drop_temp", "write_temp", "audit"]
    _record_stages(monkeypatch, events, names)
    ctx.ge_worker = None
    run_pipeline(ctx, names)
    assert events[:3] == ["ingest", "ge import started", "crawl"]

    events.clear()  # a run that does not audit never pays for the import
    run_pipeline(ctx, ["crawl", "drop_temp", "write_temp"])
    assert "ge import started" not in events


def test_the_early_import_loads_great_expectations_once_in_a_fresh_process():
    import subprocess
    import sys

    code = ("import sys; from glue_jobs.audit import warm; t = warm.start(); assert warm.start() is t; t.join(); "
            "print('great_expectations.expectations' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True"


def test_the_later_stages_modules_are_imported_beside_write_temp(ctx, monkeypatch):
    from workflows import graph, preload

    events = []
    monkeypatch.setattr(preload, "start", lambda modules: events.append(("preload", list(modules))))
    names = ["crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish"]
    _record_stages(monkeypatch, events, names)
    ctx.ge_worker = None
    run_pipeline(ctx, names)
    later = [graph.BY_NAME[n].module for n in ["audit", "publish", "after_publish"]]
    assert events == ["crawl", "drop_temp", ("preload", later), "write_temp", "audit", "publish", "after_publish"]

    events.clear()  # nothing runs after it: nothing to import early
    run_pipeline(ctx, ["crawl", "drop_temp", "write_temp"])
    assert events == ["crawl", "drop_temp", ("preload", []), "write_temp"]


def test_the_early_imports_load_the_stages_in_a_fresh_process_and_pass_over_a_broken_one():
    import subprocess
    import sys

    # drop temp, the stage before write temp, no longer pays for pandas itself
    code = ("import sys; import glue_jobs.wap.drop_temp; assert 'pandas' not in sys.modules, 'drop temp imports pandas'; "
            "from workflows import preload; "
            "preload.start(['glue_jobs.audit.stage', 'glue_jobs.no_such_stage', 'glue_jobs.wap.publish']).join(); "
            "print(all(m in sys.modules for m in ('pandas', 'glue_jobs.audit.stage', 'glue_jobs.wap.publish')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True" and "Traceback" not in out.stderr


def test_every_run_log_state_but_a_stage_just_started_is_written_durably(ctx, monkeypatch):
    # A stage's start is saved without an fsync (a power cut leaves the save before it); what a
    # stage did, failed or blocked, and the closed log, must survive a power cut.
    saves: list[tuple[bool, dict]] = []
    real = type(ctx.storage).put_bytes

    def recording(self, key, data, **kw):
        if key == layout.run_log_key(ctx.run_id):
            saves.append((kw.get("durable", True), json.loads(data)))
        return real(self, key, data, **kw)

    monkeypatch.setattr(type(ctx.storage), "put_bytes", recording)
    monkeypatch.setattr(publish, "run", lambda _ctx: {"published_rows": 4})
    run_pipeline(ctx, ["publish"])

    def boom(_ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "run", boom)
    with pytest.raises(RuntimeError):
        run_pipeline(ctx, ["publish"])
    states = [(durable, doc["stages"]["publish"]["status"], doc.get("status")) for durable, doc in saves]
    assert all(durable for durable, stage, _ in states if stage != "running"), states
    assert {s[1:] for s in states} >= {("succeeded", "succeeded"), ("failed", "failed")}  # both closed logs seen
