"""The run log keeps which ingest runs a pipeline run processes, not their fetches: later
stages read the fetches from the manifests, and a run log written by an older version (with
the fetches in it) still works."""
import json

import pytest

from glue_jobs.lake import ingest_queue
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.storage import NotFound
from tests.support.wap_fixtures import csv_body, land

BODY = csv_body([("2024-03-08", 1, 2, 0.5, 1, 9)])


def test_the_run_log_names_the_chosen_runs_and_later_stages_get_the_same_fetches(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": BODY, "XOM": BODY})
    chosen = ingest_queue.runs_for(ctx.storage, ctx.run_id)
    stored = RunLog.load(ctx.storage, ctx.run_id).get("ingest_runs")
    assert stored == [{"run_id": "i1", "ingest_date": "2024-03-08", "manifest_key": chosen[0].manifest_key}]
    again = ingest_queue.runs_for(ctx.storage, ctx.run_id)
    assert again == chosen and [f.symbol for f in again[0].fetches] == ["IBM", "XOM"]


def test_a_run_log_that_lists_the_fetches_itself_is_still_read(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": BODY})
    fetch = {"symbol": "IBM", "raw_key": "raw/old/body.csv", "rows": 1, "fetched_at": "2024-03-08 22:00:00.000000",
             "forming_date": None}
    log = RunLog.load_or_new(ctx.storage, ctx.run_id)
    log.set("ingest_runs", [{"run_id": "i0", "ingest_date": "2024-03-07", "manifest_key": "m.json",
                             "fetches": [fetch]}])
    log.save()
    runs = ingest_queue.runs_for(ctx.storage, ctx.run_id)
    assert [(r.run_id, r.fetches[0].raw_key) for r in runs] == [("i0", "raw/old/body.csv")]


def test_a_chosen_run_whose_manifest_is_gone_says_so(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": BODY})
    chosen = ingest_queue.runs_for(ctx.storage, ctx.run_id)
    ctx.storage.delete([chosen[0].manifest_key])
    with pytest.raises(NotFound, match=f"run {ctx.run_id} processes ingest runs whose manifest is gone") as caught:
        ingest_queue.runs_for(ctx.storage, ctx.run_id)
    assert chosen[0].manifest_key in str(caught.value)


def test_a_changed_manifest_is_read_again(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": BODY, "XOM": BODY})
    run = ingest_queue.runs_for(ctx.storage, ctx.run_id)[0]
    doc = json.loads(ctx.storage.get_bytes(run.manifest_key))
    symbols = doc["symbols"]
    if isinstance(symbols, dict):
        symbols.pop("XOM")
    else:
        doc["symbols"] = [s for s in symbols if s.get("symbol") != "XOM"]
    ctx.storage.put_bytes(run.manifest_key, json.dumps(doc).encode())
    assert [f.symbol for f in ingest_queue.runs_for(ctx.storage, ctx.run_id)[0].fetches] == ["IBM"]
