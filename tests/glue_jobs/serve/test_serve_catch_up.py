"""The serve stage into an empty serving table (the first run after a backfill, a lost table)
takes the rebuild's bulk path instead of loading every waiting manifest through the loader;
into a table that holds rows it loads the day's manifest as before."""
from __future__ import annotations

import os

from glue_jobs.lake.run_log import RunLog
from glue_jobs.runtime import SERVING_FILE, open_runtime
from glue_jobs.serve import catch_up
from glue_jobs.serve.sync import sync
from tests.glue_jobs.serve.test_serve_on_a_lake import RUNS, publish_day, published, served, versions


def lose_the_serving_table(root) -> None:
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(root, SERVING_FILE) + suffix
        if os.path.exists(path):
            os.remove(path)


def serve_stage(root, run: str) -> dict:
    return RunLog.load(open_runtime(str(root)).storage, RUNS[run]).doc["stages"]["serve"]["counts"]


def test_the_serve_stage_fills_an_empty_table_in_bulk_and_the_queue_does_not_carry_it_again(tmp_path):
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    assert serve_stage(root, "D-1")["bulk_filled_rows"] == 30 == len(served(root))  # a new lake's first run
    lose_the_serving_table(root)
    publish_day(root, "D")  # D's manifest waits; the table lost D-1's rows too

    counts = serve_stage(root, "D")
    assert served(root) == published(root)
    assert counts["bulk_filled_rows"] == len(published(root)) == counts["bars_written"]
    assert counts["messages_loaded"] == 0 and counts["messages_failed"] == 0
    assert set(versions(root).values()) == {RUNS["D"]}  # each partition's published version
    # the manifests it covered are recorded as announced: the queue does not carry them again
    again = sync(open_runtime(str(root)))
    assert (again.announced, again.loaded, again.written) == (0, 0, 0)


def test_the_serve_stage_into_a_table_with_rows_loads_the_manifest(tmp_path):
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    publish_day(root, "D")
    counts = serve_stage(root, "D")
    assert "bulk_filled_rows" not in counts and counts["messages_loaded"] == 1
    assert served(root) == published(root)


def test_an_empty_table_with_every_manifest_announced_is_left_alone(tmp_path):
    # nothing waits: an empty table then is what the published table says (nothing) or the
    # user's business (`serve rebuild`), not a reason for every run to reread the lake
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    lose_the_serving_table(root)
    rt = open_runtime(str(root))
    assert catch_up.is_empty(rt.serving)
    assert catch_up.fill_empty(rt.storage, rt.catalog, rt.serving, version="29990101T000000Z-x") is None
    assert catch_up.is_empty(rt.serving)
