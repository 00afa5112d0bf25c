"""The serve stage end to end on a local lake, with the real SQLite serving table and queue:
a WAP run leaves the serving table holding exactly what stocks.daily_prices holds; a rollback
(a manifest with a higher version) brings it back, deleting the keys the rolled-back run added;
replaying every manifest changes nothing; a poison manifest ends in the dead-letter queue with
its reason and does not stop the others."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import unquote_plus

import pytest

from glue_jobs.lake import layout, trading_calendar
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import rollback
from glue_jobs.runtime import local_context, open_runtime
from glue_jobs.serve.sync import sync
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

UTC = dt.timezone.utc
SYMBOLS = ["AAA", "BBB"]
DAYS = {"D-1": dt.date(2023, 12, 29), "D": dt.date(2024, 1, 5)}
RUNS = {"D-1": "20231229T230000Z-aaaaaa", "D": "20240105T230000Z-bbbbbb"}


def publish_day(root, day: str):
    as_of = DAYS[day]
    ctx = local_context(root, run_id=RUNS[day], as_of=as_of)
    days = trading_calendar.last_sessions(as_of, 15)
    bodies = {s: csv_body(bars(s, days, seed=list(DAYS).index(day))) for s in SYMBOLS}
    land(ctx.storage, run_id=RUNS[day].replace("T23", "T22"), ingest_date=as_of.isoformat(), bodies=bodies,
         fetched_at=dt.datetime.combine(as_of, dt.time(22), UTC))
    stages = run_wap(ctx)
    return ctx, stages


def published(root) -> dict[tuple[str, str], tuple]:
    reader = local_context(root, run_id="20990101T000000Z-reader")
    rows = reader.engine.query("select symbol, trade_date, open, high, low, close, volume, ingest_run_id "
                               "from stocks.daily_prices").to_pylist()
    return {(r["symbol"], r["trade_date"].isoformat()):
            (*(Decimal(repr(r[c])) for c in ("open", "high", "low", "close")), r["volume"], r["ingest_run_id"])
            for r in rows}


def served(root) -> dict[tuple[str, str], tuple]:
    table = open_runtime(str(root)).serving
    return {(b.symbol, b.trade_date): (b.open, b.high, b.low, b.close, b.volume, b.ingest_run_id)
            for b in table.scan()}


def versions(root) -> dict[tuple[str, str], str]:
    return {(b.symbol, b.trade_date): b.version for b in open_runtime(str(root)).serving.scan()}


@pytest.fixture
def root(tmp_path):
    return tmp_path / "lake"


def test_serve_stage_leaves_the_serving_table_equal_to_the_published_table(root):
    _, stages = publish_day(root, "D-1")
    assert stages["serve"]["published_manifest"] == layout.published_manifest_key(RUNS["D-1"])
    assert served(root) == published(root) and len(served(root)) == 30
    _, stages = publish_day(root, "D")  # rewrites 2023's overlap with other prices, adds 2024
    assert served(root) == published(root)
    assert {v for (s, d), v in versions(root).items() if d.startswith("2024")} == {RUNS["D"]}
    run_log = RunLog.load(open_runtime(str(root)).storage, RUNS["D"])
    assert run_log.doc["stages"]["serve"]["status"] == "succeeded"


def test_serve_rollback_brings_the_serving_table_back_and_deletes_the_added_keys(root):
    publish_day(root, "D-1")
    before = published(root)
    publish_day(root, "D")
    assert any(d.startswith("2024") for _, d in served(root))
    summary = rollback.run(local_context(root, run_id="20240110T120000Z-rb0001"), RUNS["D"])
    assert summary["published_manifest"] == layout.published_manifest_key("20240110T120000Z-rb0001")
    result = sync(open_runtime(str(root)))
    assert result.loaded == 1 and result.deleted > 0
    assert published(root) == before
    assert served(root) == before  # no 2024 key left, 2023 rows as after D-1
    assert "20240110T120000Z-rb0001" in set(versions(root).values())


def test_serve_replaying_every_manifest_changes_nothing(root):
    publish_day(root, "D-1")
    publish_day(root, "D")
    before, before_versions = served(root), versions(root)
    runtime = open_runtime(str(root))
    runtime.storage.delete([layout.SERVING_EVENTS_KEY])  # forget what was announced: every manifest again
    result = sync(runtime)
    assert result.announced == 2 and result.loaded == 2
    assert result.written == 0 and result.deleted == 0 and result.stale > 0
    assert served(root) == before and versions(root) == before_versions


def test_serve_a_poison_manifest_goes_to_the_dead_letter_queue_with_its_reason(root):
    publish_day(root, "D-1")
    runtime = open_runtime(str(root))
    runtime.storage.put_bytes(layout.published_manifest_key("20240101T000000Z-broken"), b"{not json")
    runtime.storage.put_bytes(layout.published_manifest_key("20240102T000000Z-noparts"),
                              json.dumps({"run_id": "x", "table": "daily_prices", "version": "x"}).encode())
    result = sync(runtime)
    assert result.dead_letters == 2 and result.loaded == 0
    queue = runtime.queue_factory("serve")
    reasons = {unquote_plus(json.loads(d.body)["detail"]["object"]["key"]): d.reason for d in queue.dead_letters()}
    broken, noparts = (reasons[layout.published_manifest_key(r)]
                       for r in ("20240101T000000Z-broken", "20240102T000000Z-noparts"))
    assert "is not JSON" in broken and "received 5 times" in broken
    assert "lacks partitions" in noparts
    assert served(root) == published(root)  # the good rows stay served
    assert sync(runtime).received == 0  # dead letters are not delivered again


def test_serve_ingest_markers_beside_the_manifests_are_not_loaded(root):
    """The ingest runs' published markers share the prefix (manifests/published/ingest_date=D/…):
    an event for one is not an error and loads nothing."""
    from glue_jobs.serve import loader

    publish_day(root, "D-1")
    runtime = open_runtime(str(root))
    markers = [k for k in runtime.storage.list_keys(layout.PUBLISHED_MARKER_PREFIX)
               if not layout.is_published_manifest_key(k)]
    assert markers  # WAP marked the ingest run published
    done = loader.load([loader.Record("m1", loader.event_body("b", markers[0]))], runtime.storage, runtime.serving)
    assert done.skipped == ["m1"] and not done.failures


def test_serve_stage_writes_the_manifest_a_crash_after_the_switch_left_unwritten(root):
    """Publish switched the catalog and died before its manifest: the serve stage writes it from
    the run log's publish record (only partitions the catalog points at) and serves it."""
    as_of = DAYS["D-1"]
    ctx = local_context(root, run_id=RUNS["D-1"], as_of=as_of)
    days = trading_calendar.last_sessions(as_of, 15)
    land(ctx.storage, run_id=RUNS["D-1"].replace("T23", "T22"), ingest_date=as_of.isoformat(),
         bodies={s: csv_body(bars(s, days)) for s in SYMBOLS}, fetched_at=dt.datetime.combine(as_of, dt.time(22), UTC))
    run_wap(ctx, ("crawl", "drop_temp", "write_temp", "audit", "publish"))
    key = layout.published_manifest_key(RUNS["D-1"])
    ctx.storage.delete([key])  # as if killed between the switch and the manifest
    stages = run_wap(local_context(root, run_id=RUNS["D-1"], as_of=as_of), ("serve",))
    assert stages["serve"]["published_manifest"] == key and ctx.storage.exists(key)
    assert served(root) == published(root) and served(root)
