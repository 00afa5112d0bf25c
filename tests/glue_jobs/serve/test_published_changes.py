"""Publish records the rows it changed beside its published manifest, and the loader writes
those instead of comparing the partition's two versions (a year of 5,000 symbols each). The
record must hold every change the comparison finds, the manifest must name it only for the
switch it describes, and without it (gone, a rollback, an older manifest) the loader compares."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from glue_jobs.lake import layout, published_changes, published_manifest, trading_calendar
from glue_jobs.lake.published_manifest import ManifestError
from glue_jobs.runtime import local_context, open_runtime
from glue_jobs.serve import loader
from tests.glue_jobs.serve.test_serve_on_a_lake import RUNS, publish_day, published, served
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap


def manifest(root, run: str) -> published_manifest.PublishedManifest:
    storage = open_runtime(str(root)).storage
    key = layout.published_manifest_key(RUNS[run])
    return published_manifest.parse(storage.get_bytes(key), key=key)


def compared(m: published_manifest.PublishedManifest) -> published_manifest.PublishedManifest:
    """The same manifest as one written before publish recorded its changes."""
    return dataclasses.replace(m, partitions=tuple(dataclasses.replace(p, changes=None) for p in m.partitions))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    root = tmp_path_factory.mktemp("changes") / "lake"
    publish_day(root, "D-1")
    publish_day(root, "D")  # rewrites 2023's overlap with other prices, adds 2024
    return root


def test_the_recorded_changes_are_what_comparing_the_versions_finds(two_days):
    m = manifest(two_days, "D")
    by_year = {p.values["trade_year"]: p for p in m.partitions}
    # 2023 had a version before: its changes are recorded; 2024 is new: read whole, nothing recorded
    assert by_year["2023"].changes == published_changes.location(RUNS["D"], "2023", by_year["2023"].location)
    assert by_year["2024"].previous_location is None and by_year["2024"].changes is None
    storage = open_runtime(str(two_days)).storage
    fast, slow = loader.changes(storage, m), loader.changes(storage, compared(m))
    assert fast == slow
    bars, deletions = fast
    assert deletions == [] and len([b for b in bars if b.trade_date < "2024"]) > 0
    assert served(two_days) == published(two_days)


def test_a_restated_bar_of_one_symbol_records_that_bar_only(tmp_path):
    """Other symbols have a bar on the restated date too; only the restated symbol's is a change
    (sql/wap/publish/changes.sql matches a staged key by symbol and date, both)."""
    root, day = tmp_path / "lake", dt.date(2024, 3, 8)
    first = local_context(root, run_id="20240308T230000Z-aaaaaa", as_of=day)
    series = {s: bars(s, trading_calendar.last_sessions(day, 10)) for s in ("AAA", "BBB", "CCC")}
    land(first.storage, run_id="20240308T220000Z-i1", ingest_date=day.isoformat(),
         bodies={s: csv_body(rows) for s, rows in series.items()})
    run_wap(first)
    second = local_context(root, run_id="20240309T230000Z-bbbbbb", as_of=day)
    date, open_, high, low, close, volume = series["BBB"][4]
    land(second.storage, run_id="20240309T220000Z-i2", ingest_date="2024-03-09",
         bodies={"BBB": csv_body([(date, open_, high, low, close, volume + 1000)])})
    run_wap(second)

    key = layout.published_manifest_key(second.run_id)
    m = published_manifest.parse(second.storage.get_bytes(key), key=key)
    assert [p.changes is not None for p in m.partitions] == [True]  # the loader reads the record
    bars_, deletions = loader.changes(second.storage, m)
    assert [(b.symbol, b.trade_date, b.volume) for b in bars_] == [("BBB", date, volume + 1000)]
    assert (bars_, deletions) == loader.changes(second.storage, compared(m))


def test_without_the_record_the_loader_compares_the_versions(two_days):
    storage = open_runtime(str(two_days)).storage
    m = manifest(two_days, "D")
    expected = loader.changes(storage, compared(m))
    [part] = [p for p in m.partitions if p.changes]
    saved = {k: storage.get_bytes(k) for k in storage.list_keys(part.changes)}
    storage.delete(list(saved))
    try:
        assert loader.changes(storage, m) == expected
    finally:
        for key, data in saved.items():
            storage.put_bytes(key, data)


def test_a_record_is_named_only_for_the_location_it_was_made_for(two_days):
    m = manifest(two_days, "D")
    [part] = [p for p in m.partitions if p.changes]
    storage = open_runtime(str(two_days)).storage
    assert published_changes.recorded(storage, RUNS["D"], "2023", part.location) == part.changes
    assert published_changes.recorded(storage, RUNS["D"], "2023", part.location + "other/") is None
    assert published_changes.recorded(storage, RUNS["D-1"], "2023", part.location) is None


def test_a_manifest_whose_changes_are_not_a_location_is_refused():
    doc = published_manifest.build(RUNS["D"], {"2024": ("warehouse/a/", "warehouse/b/")})
    doc["partitions"][0]["changes"] = 7
    with pytest.raises(ManifestError, match="partition 0: changes must name a location"):
        published_manifest.parse(published_manifest.to_bytes(doc), key="manifests/published/x.json")


def test_the_records_do_not_look_like_manifests_to_the_event_path():
    key = published_changes.location(RUNS["D"], "2023", "warehouse/x/") + "changes.parquet"
    assert key.startswith(layout.PUBLISHED_MANIFEST_PREFIX) and not layout.is_published_manifest_key(key)
    # the EventBridge rule matches manifests/published/<digit>: the records start with a letter
    assert not key[len(layout.PUBLISHED_MANIFEST_PREFIX)].isdigit()
