import json

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import layout, run_log
from glue_jobs.lake.errors import AuditBlocked
from glue_jobs.lake.run_log import RunLog


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path)


def _stored(storage, run_id="r1"):
    return json.loads(storage.get_bytes(layout.run_log_key(run_id)))


def _finish(log, name, counts):
    log.stage_started(name)
    log.stage_finished(name, counts)


def test_stages_record_status_time_counts_and_details(storage):
    log = RunLog.start(storage, run_id="r1", as_of="2024-03-08", stages=["crawl", "write_temp"])
    assert _stored(storage)["stages"]["crawl"]["status"] == "pending"
    _finish(log, "crawl", {"partitions_added": 3, "schema_drift": [], "status": "ok"})
    log.save()
    crawl = _stored(storage)["stages"]["crawl"]
    assert crawl["status"] == "succeeded" and crawl["seconds"] >= 0
    assert crawl["counts"] == {"partitions_added": 3}
    assert crawl["details"] == {"schema_drift": [], "status": "ok"}


def test_reconciliation_holds_or_is_recorded_loudly(storage, caplog):
    log = RunLog.start(storage, run_id="r1", stages=["write_temp", "audit", "publish"])
    _finish(log, "write_temp", {"raw_rows": 10, "duplicates_dropped": 2})
    _finish(log, "audit", {"quarantined_rows": 1})
    _finish(log, "publish", {"published_rows": 7})
    log.finish()
    log.save()
    totals = _stored(storage)["totals"]
    assert totals["reconciled"] is True and totals["reconciliation"]["difference"] == 0

    _finish(log, "publish", {"published_rows": 6})
    log.save()
    stored = _stored(storage)
    assert stored["totals"]["reconciled"] is False
    assert stored["totals"]["reconciliation"]["difference"] == 1
    assert any("reconciliation failed" in p for p in stored["problems"])
    assert "reconciliation failed for run r1" in caplog.text


def test_unchanged_rows_are_part_of_the_reconciliation(storage):
    log = RunLog.start(storage, run_id="r1", stages=["write_temp", "audit", "publish"])
    _finish(log, "write_temp", {"raw_rows": 100, "duplicates_dropped": 1, "unchanged_rows": 95})
    _finish(log, "audit", {"quarantined_rows": 1})
    _finish(log, "publish", {"published_rows": 3})
    log.finish()
    log.save()
    stored = _stored(storage)
    assert stored["totals"]["reconciled"] is True and stored["totals"]["unchanged_rows"] == 95
    assert "unchanged_rows" in stored["totals"]["reconciliation"]["check"]
    assert run_log.summary(stored)["unchanged_rows"] == 95


def test_reconciliation_is_not_claimed_when_publish_did_not_run(storage):
    log = RunLog.start(storage, run_id="r1", stages=["write_temp", "audit", "publish"])
    _finish(log, "write_temp", {"raw_rows": 10, "duplicates_dropped": 0})
    log.stage_started("audit")
    blocked = AuditBlocked("quarantine share too high")
    blocked.details = {"quarantined_rows": 9, "rules": [{"rule": "quarantine_share_below_threshold"}]}
    log.stage_failed("audit", blocked)
    log.finish()
    log.save()
    stored = _stored(storage)
    assert stored["status"] == "blocked"
    assert stored["stages"]["audit"]["exit_code"] == 3
    assert stored["stages"]["audit"]["details"]["rules"] == [{"rule": "quarantine_share_below_threshold"}]
    assert stored["totals"]["reconciled"] is None


def test_separate_jobs_add_their_stage_without_clobbering_each_other(storage):
    runner = RunLog.start(storage, run_id="r1", stages=["crawl", "write_temp"])
    # another process (a Glue job, or ingest_queue.choose_ingest_runs) records something meanwhile
    other = RunLog.load(storage, "r1")
    other.set("ingest_runs", [{"run_id": "i1"}])
    _finish(other, "crawl", {"partitions_added": 1})
    other.save()
    _finish(runner, "write_temp", {"raw_rows": 5})
    runner.save()
    stored = _stored(storage)
    assert stored["ingest_runs"] == [{"run_id": "i1"}]
    assert stored["stages"]["crawl"]["counts"] == {"partitions_added": 1}
    assert stored["stages"]["write_temp"]["counts"] == {"raw_rows": 5}
    assert list(stored["stages"]) == ["crawl", "write_temp"]


def test_list_runs_shows_the_newest_first(storage):
    for run_id in ("20240307T220000Z-a", "20240308T220000Z-b"):
        RunLog.start(storage, run_id=run_id, stages=[])
    rows = run_log.list_runs(storage, limit=5)
    assert [r["run_id"] for r in rows] == ["20240308T220000Z-b", "20240307T220000Z-a"]
    assert rows[0]["status"] == "running"


def test_an_unreadable_run_log_keeps_every_column_of_runs(storage):
    good = RunLog.start(storage, run_id="20240307T220000Z-a", stages=[])
    good.finish()
    good.save()
    storage.put_bytes("runs/20240308T220000Z-b.json", b"{broken")
    rows = run_log.list_runs(storage, limit=5)
    assert [r["run_id"] for r in rows] == ["20240308T220000Z-b", "20240307T220000Z-a"]
    assert rows[0]["status"].startswith("unreadable run log")
    assert set(rows[0]) == set(rows[1])  # `tickerlake runs` builds its table from the first row

