"""A bad ingest run blocks every later WAP until an operator sets it aside: the blocked message
names it and the command; set aside, it stays in raw with its reason and the next WAP publishes
the good runs; requeued, it is pending again."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.audit.blame import blocked_hint, offenders
from glue_jobs.lake import ingest_queue, layout, trading_calendar
from glue_jobs.lake.errors import AuditBlocked, ConfigError
from glue_jobs.lake.ingest_history import history
from glue_jobs.ops.set_aside import requeue, set_aside
from glue_jobs.runtime import local_context
from tests.support.wap_fixtures import bars, csv_body, land, land_synthetic
from workflows.runner import run_wap

AS_OF = dt.date(2024, 3, 8)
GOOD, BAD, LATER = "20240307T220000Z-good01", "20240308T220000Z-bad001", "20240308T223000Z-later1"
SYMBOLS = ["AAA", "BBB", "CCC"]


def wap(root, run_id: str):
    ctx = local_context(root, run_id=run_id, as_of=AS_OF)
    return ctx, run_wap(ctx)


@pytest.fixture
def blocked_lake(tmp_path):
    """A published day, then an ingest run with a drifted header that blocks the audit."""
    root = tmp_path / "lake"
    first = local_context(root, run_id="20240307T230000Z-wap001", as_of=dt.date(2024, 3, 7))
    land_synthetic(first.storage, run_id=GOOD, as_of=dt.date(2024, 3, 7), symbols=SYMBOLS, days=20)
    run_wap(first)
    days = trading_calendar.last_sessions(AS_OF, 5)
    bodies = {s: csv_body(bars(s, days)) for s in SYMBOLS}
    bodies["AAA"] = csv_body([(d.isoformat(), 1, 2, 0.5, 1.5, 1.4, 100) for d in days],
                             header="timestamp,open,high,low,close,adjusted_close,volume")
    land(first.storage, run_id=BAD, ingest_date=AS_OF.isoformat(), bodies=bodies)
    return root, first.storage


def test_the_blocked_message_names_the_bad_ingest_run_and_how_to_set_it_aside(blocked_lake):
    root, storage = blocked_lake
    with pytest.raises(AuditBlocked) as blocked:
        wap(root, "20240308T230000Z-wap002")
    text = str(blocked.value)
    assert f"{BAD} (ingest date 2024-03-08): 1 body(ies) with another header" in text
    assert f"tickerlake set-aside --ingest-run {BAD} --reason" in text

    # a good ingest run landing later is stuck behind it: the next WAP blocks on the same run
    land_synthetic(storage, run_id=LATER, as_of=AS_OF, symbols=["DDD"], days=3)
    with pytest.raises(AuditBlocked, match=BAD):
        wap(root, "20240308T233000Z-wap003")


def test_set_aside_the_bad_run_stays_in_raw_and_the_rest_is_published(blocked_lake):
    root, storage = blocked_lake
    land_synthetic(storage, run_id=LATER, as_of=AS_OF, symbols=["DDD"], days=3)
    raw_before = {k: storage.get_bytes(k) for k in storage.list_keys(layout.RAW_PREFIX)}

    marker = set_aside(storage, BAD, "vendor added adjusted_close to AAA's CSV", by="operator-1")

    assert storage.exists(marker["marker_key"]) and marker["reason"].startswith("vendor added")
    assert [r.run_id for r in ingest_queue.pending_ingest_runs(storage)] == [LATER]
    ctx, results = wap(root, "20240308T233000Z-wap003")
    assert results["publish"]["published_rows"] == 3
    symbols = ctx.engine.query("select distinct symbol from stocks.daily_prices order by symbol").to_pylist()
    assert [r["symbol"] for r in symbols] == ["AAA", "BBB", "CCC", "DDD"]
    assert {k: storage.get_bytes(k) for k in storage.list_keys(layout.RAW_PREFIX)} == raw_before
    assert [e["action"] for e in history(storage, BAD)] == ["set_aside"]
    assert history(storage, BAD)[0]["reason"] == "vendor added adjusted_close to AAA's CSV"

    # requeued, it is pending again (and blocks again, as it should until fixed)
    assert requeue(storage, BAD)["status"] == "pending"
    assert [r.run_id for r in ingest_queue.pending_ingest_runs(storage)] == [BAD]
    assert [e["action"] for e in history(storage, BAD)] == ["set_aside", "requeued"]
    assert requeue(storage, BAD)["status"] == "already pending"


def test_set_aside_refuses_without_a_reason_an_unknown_run_or_a_published_one(blocked_lake):
    _, storage = blocked_lake
    with pytest.raises(ConfigError, match="needs --reason"):
        set_aside(storage, BAD, "  ")
    with pytest.raises(ConfigError, match="no ingest run 'nope'.*" + BAD):
        set_aside(storage, "nope", "typo")
    with pytest.raises(ConfigError, match="already published.*tickerlake rollback"):
        set_aside(storage, GOOD, "too late")


def test_offenders_are_attributed_per_failing_rule():
    failed = [{"rule": "quarantine_share_below_threshold"}, {"rule": "row_count_within_bounds"}]
    found = offenders(failed, drifted_runs={"X": 1}, quarantined_by_run={"A": 40, "B": 2},
                      rows_by_run={"A": (100, 100), "B": (50, 80)})
    assert found == {"A": "40 of 100 rows quarantined", "B": "2 of 50 rows quarantined; 50 rows read, its manifest lists 80"}
    assert offenders([{"rule": "schema_as_expected"}], drifted_runs={"X": 2}, quarantined_by_run={"A": 1},
                     rows_by_run={}) == {"X": "2 body(ies) with another header"}
    hint = blocked_hint({"A": "40 of 100 rows quarantined"}, {"A": "2024-03-08"})
    assert "A (ingest date 2024-03-08): 40 of 100 rows quarantined" in hint
    assert 'tickerlake set-aside --ingest-run A --reason "<why>" && tickerlake wap' in hint
    assert blocked_hint({}, {}) == ""
