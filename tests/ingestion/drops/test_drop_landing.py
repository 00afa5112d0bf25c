"""Landing a dropped file on a real local lake directory: once per content, crash points that
converge on one ingest run, rejected files kept with their reason, and a manifest the WAP reads
like any fetch's."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import failpoints, ingest_queue, lake_record, layout
from ingestion.drops.land import ALREADY_LANDED, LANDED, REJECTED, land_drop

AS_OF = dt.date(2024, 1, 10)
NOW = dt.datetime(2024, 1, 11, 1, 0, tzinfo=dt.timezone.utc)
GENERIC = (b"symbol,date,open,high,low,close,volume\n"
           b"IBM,2024-01-10,10,11,9,10.5,100\nMSFT,2024-01-10,20,21,19,20.5,200\nIBM,2024-01-09,9,10,8,9.5,90\n")


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "lake")


@pytest.fixture
def armed():
    def arm(point: str) -> None:
        failpoints.reset({"TICKERLAKE_FAILPOINT": point, "TICKERLAKE_FAILPOINT_ACTION": "raise"})

    yield arm
    failpoints.reset({})


def keys(storage) -> list[str]:
    return storage.list_keys("")


def test_a_landed_drop_is_one_pending_ingest_run_the_wap_reads_like_a_fetch(storage):
    outcome = land_drop(storage, GENERIC, "export.csv", as_of=AS_OF, now=NOW)
    assert outcome.status == LANDED and layout.is_drop_run(outcome.run_id)
    assert outcome.symbols == {"IBM": 2, "MSFT": 1}
    [run] = ingest_queue.pending_ingest_runs(storage)
    assert run.run_id == outcome.run_id and run.ingest_date == "2024-01-10"
    assert [(f.symbol, f.rows) for f in run.fetches] == [("IBM", 2), ("MSFT", 1)]
    assert storage.get_bytes(run.fetches[0].raw_key).startswith(b"timestamp,open,high,low,close,volume\n")
    assert storage.get_bytes(outcome.received_key) == GENERIC  # the file as received, kept
    assert json.loads(storage.get_bytes(outcome.manifest_key))["source"] == "drop"


def test_the_same_bytes_again_change_nothing(storage):
    first = land_drop(storage, GENERIC, "export.csv", as_of=AS_OF, now=NOW)
    before = {k: storage.get_bytes(k) for k in keys(storage)}
    again = land_drop(storage, GENERIC, "renamed.csv", as_of=dt.date(2024, 1, 12), now=NOW + dt.timedelta(days=2))
    assert again.status == ALREADY_LANDED and again.run_id == first.run_id
    assert {k: storage.get_bytes(k) for k in keys(storage)} == before


@pytest.mark.parametrize("point", ["drop.after_marker", "drop.after_body", "drop.before_landed"])
def test_a_crash_while_landing_converges_on_one_ingest_run(storage, armed, point):
    armed(point)
    with pytest.raises(failpoints.InjectedFault):
        land_drop(storage, GENERIC, "export.csv", as_of=AS_OF, now=NOW)
    failpoints.reset({})
    replay = land_drop(storage, GENERIC, "export.csv", as_of=dt.date(2024, 1, 12), now=NOW + dt.timedelta(hours=5))
    assert replay.status == LANDED
    runs = ingest_queue.pending_ingest_runs(storage)
    assert [r.run_id for r in runs] == [replay.run_id]  # the crashed attempt's run, finished, not a second one
    assert runs[0].ingest_date == "2024-01-10" and runs[0].expected_rows == 3
    assert land_drop(storage, GENERIC, "export.csv", as_of=AS_OF).status == ALREADY_LANDED


def test_a_bad_file_is_kept_in_rejected_with_its_reason_and_lands_nothing(storage):
    bad = GENERIC.replace(b"MSFT,2024-01-10,20", b"MSFT,2024-01-10,twenty")
    outcome = land_drop(storage, bad, "export.csv", as_of=AS_OF, now=NOW)
    assert outcome.status == REJECTED
    assert storage.get_bytes(outcome.rejected_key) == bad
    reason = storage.get_bytes(outcome.reason_key).decode()
    assert "row 3, column open: 'twenty' is not a number" in reason
    assert outcome.reason_key == outcome.rejected_key + ".reason"
    assert ingest_queue.pending_ingest_runs(storage) == []
    assert not [k for k in keys(storage) if k.startswith(("raw/", "manifests/"))]
    before = {k: storage.get_bytes(k) for k in keys(storage)}
    assert land_drop(storage, bad, "export.csv", as_of=AS_OF, now=NOW + dt.timedelta(hours=1)).status == REJECTED
    assert {k: storage.get_bytes(k) for k in keys(storage)} == before


def test_a_drop_never_becomes_the_lakes_source(storage):
    land_drop(storage, GENERIC, "export.csv", as_of=AS_OF, now=NOW)
    assert lake_record.read_source(storage).source is None  # a synthetic or real first run is still free
