"""doctor_plan and the manifest comparison without a lake: what counts as a problem, and what
the repair is."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake import version_manifest
from glue_jobs.ops import doctor_plan as dp
from glue_jobs.ops import janitor_plan
from glue_jobs.ports.storage import ObjectInfo

LOC = "warehouse/daily_prices/trade_year=2023/v=R2/"
EARLIER = "warehouse/daily_prices/trade_year=2023/v=R1/"


def test_a_damaged_document_is_restored_from_the_newest_intact_history():
    doc = dp.DocumentFact("daily_prices", "catalog/stocks/daily_prices.json", "damaged", "not JSON",
                          (dp.HistoryEntry("h/3.json", False), dp.HistoryEntry("h/2.json", True)))
    (p,) = dp.plan([doc], [], [])
    assert (p.action, p.source, p.target) == (dp.RESTORE_DOCUMENT, "h/2.json", doc.key)
    assert "doctor --repair" in p.fix and "drop" not in p.fix.split("do not drop")[0]


def test_a_document_without_history_says_what_to_run_and_never_to_drop_it():
    (p,) = dp.plan([dp.DocumentFact("daily_prices", "k", "missing")], [], [])
    assert p.action is None and "do not drop it" in p.fix


def test_a_damaged_partition_goes_back_to_the_newest_intact_earlier_version_then_is_republished():
    part = dp.PartitionFact("daily_prices", "trade_year=2023", {"trade_year": "2023"},
                            dp.VersionCheck(LOC, ("part-0: missing",), ingest_runs=("i1",)),
                            (dp.VersionCheck("x/", ("bad",)), dp.VersionCheck(EARLIER)))
    (p,) = dp.plan([], [part], [])
    assert (p.action, p.source, p.ingest_runs, p.republish) == (dp.SWITCH_PARTITION, EARLIER, ("i1",), True)
    assert LOC in p.target and "part-0: missing" in p.what


def test_without_an_intact_earlier_version_the_partition_goes_to_an_empty_one():
    part = dp.PartitionFact("daily_prices", "trade_year=2023", {"trade_year": "2023"}, dp.VersionCheck(LOC, ("x",)))
    (p,) = dp.plan([], [part], [])
    assert p.source is None and "empty version" in p.fix


def test_healthy_is_no_problem_and_warnings_do_not_count_as_errors():
    part = dp.PartitionFact("daily_prices", "trade_year=2023", {"trade_year": "2023"}, dp.VersionCheck(LOC))
    problems = dp.plan([dp.DocumentFact("daily_prices", "k", "ok")], [part], [], [("raw/x", "no manifest")])
    assert [p.severity for p in problems] == [dp.WARNING] and dp.errors(problems) == []
    assert dp.describe([], lake="/l") == ["doctor: the lake /l is healthy"]


def test_records_get_their_repairs():
    kinds = {"version manifest": dp.REBUILD_MANIFEST, "run log": dp.STUB_RUN_LOG, "ingest state": dp.REBUILD_STATE,
             "ingest manifest": None}
    problems = dp.plan([], [], [dp.RecordFact(k, f"key-{k}", "not JSON", "run log runs/r.json") for k in kinds])
    assert {p.kind: p.action for p in problems} == kinds


def _fact(key, size, rows, sha, error=None):
    return version_manifest.FileFact(key, size, rows, sha, error)


def test_compare_names_missing_truncated_changed_and_extra_files():
    manifest = {"files": [{"key": "a", "bytes": 10, "rows": 5, "sha256": "s"},
                          {"key": "b", "bytes": 10, "rows": 5, "sha256": "s"},
                          {"key": "c", "bytes": 10, "rows": 5, "sha256": "s"}]}
    observed = [_fact("b", 4, None, None, "not Parquet"), _fact("c", 10, 5, "other"), _fact("d", 1, 1, "z")]
    problems = version_manifest.compare(manifest, observed)
    assert problems == ["a: missing (published with 5 rows)", "b: 4 bytes, published with 10 (truncated or rewritten)",
                        "c: content differs from its published checksum",
                        "d: not among the files published in this version"]
    assert version_manifest.compare(manifest, [_fact(k, 10, 5, "s") for k in "abc"]) == []
    assert version_manifest.compare(None, []) == ["holds no data file"]


def test_history_versions_go_once_superseded_for_the_retention_never_the_newest():
    now = dt.datetime(2026, 1, 31, tzinfo=dt.timezone.utc)
    day = dt.timedelta(days=1)
    objs = [ObjectInfo(f"h/{i}.json", 1, now - (30 - i) * day) for i in (1, 2, 29)]
    gone, kept = janitor_plan.plan_history(objs, now=now, retention=7 * day)
    assert [d.target for d in gone] == ["h/1.json"]  # h/2 was superseded 1 day ago by h/29
    assert kept == ["h/2.json", "h/29.json"]
    gone, kept = janitor_plan.plan_history(objs, now=now, retention=dt.timedelta(0))
    assert kept == ["h/29.json"]
