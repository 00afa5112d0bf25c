"""Crash points of the local loader: a sync SIGKILLed after a receive, between write chunks, or
after writing but before deleting the message converges on the next sync: the serving table
equals the published table, the queue is empty, nothing is dead-lettered."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from glue_jobs.lake import layout, trading_calendar
from glue_jobs.ports.serving import Bar
from glue_jobs.runtime import SERVING_FILE, local_context, open_runtime
from glue_jobs.serve.sync import sync
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

AS_OF = dt.date(2024, 1, 5)
RUN = "20240105T230000Z-crash1"
_SCRIPT = """
import sys
from glue_jobs.runtime import open_runtime
from glue_jobs.serve import loader
from glue_jobs.serve.sync import sync
loader.CHUNK = 7  # several chunks, so a crash can land between two of them
sync(open_runtime(sys.argv[1]), visibility_timeout=1)
"""


def _published(root) -> dict:
    rows = local_context(root, run_id="20990101T000000Z-reader").engine.query(
        "select symbol, trade_date, close from stocks.daily_prices").to_pylist()
    return {(r["symbol"], r["trade_date"].isoformat()): Decimal(repr(r["close"])) for r in rows}


def _served(root) -> dict:
    return {(b.symbol, b.trade_date): b.close for b in open_runtime(str(root)).serving.scan()}


@pytest.fixture
def unserved_lake(tmp_path):
    """A lake whose run published 3 symbols x 20 sessions, with the serving table and the queue
    as if the event had not been delivered yet."""
    root = tmp_path / "lake"
    ctx = local_context(root, run_id=RUN, as_of=AS_OF)
    days = trading_calendar.last_sessions(AS_OF, 20)
    land(ctx.storage, run_id="20240105T220000Z-crash1", ingest_date=AS_OF.isoformat(),
         bodies={s: csv_body(bars(s, days, seed=n)) for n, s in enumerate(["AAA", "BBB", "CCC"])},
         fetched_at=dt.datetime(2024, 1, 5, 22, tzinfo=dt.timezone.utc))
    run_wap(ctx, ("crawl", "drop_temp", "write_temp", "audit", "publish"))  # published, not served yet
    assert ctx.storage.exists(layout.published_manifest_key(RUN))
    assert not (root / SERVING_FILE).exists()
    return root


@pytest.mark.parametrize("point", ["serve.after_receive", "serve.mid_batch", "serve.before_delete"])
def test_serve_a_sync_killed_at_a_crash_point_converges_on_the_next_sync(unserved_lake, point):
    env = {**os.environ, "TICKERLAKE_FAILPOINT": point, "TICKERLAKE_FAILPOINT_ACTION": "kill"}
    killed = subprocess.run([sys.executable, "-c", _SCRIPT, str(unserved_lake)], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert f"failpoint {point}" in killed.stderr.decode()
    if point == "serve.after_receive":
        assert not (unserved_lake / SERVING_FILE).exists() or _served(unserved_lake) == {}  # killed before any write
    elif point == "serve.mid_batch":
        assert 0 < len(_served(unserved_lake)) < len(_published(unserved_lake))
    else:
        assert _served(unserved_lake) == _published(unserved_lake)  # written, the message not deleted

    time.sleep(1.2)  # the dead consumer's visibility timeout
    runtime = open_runtime(str(unserved_lake))
    result = sync(runtime, visibility_timeout=1)

    assert result.announced == 0  # the dead sync had announced it: it is not sent twice
    assert result.loaded == 1 and result.failed == 0 and result.dead_letters == 0
    assert _served(unserved_lake) == _published(unserved_lake)
    queue = runtime.queue_factory("serve")
    assert queue.depth().visible == 0 and queue.depth().in_flight == 0
    again = sync(runtime)
    assert again.received == 0 and again.written == 0


_SERVE_STAGE = f"""
import sys
from glue_jobs.runtime import local_context
from workflows.runner import run_wap
run_wap(local_context(sys.argv[1], run_id={RUN!r}), ("serve",))
"""


def test_serve_a_run_killed_in_its_background_checkpoint_keeps_every_bar_it_served(unserved_lake):
    # The checkpoint runs in a thread once the run's stages are done, beside the rest of the
    # command: a process killed there has served the day and deleted its message, and the
    # bars are in the WAL only.
    first = min(_published(unserved_lake))  # a stale row, so the loader (not the bulk fill) serves the day
    open_runtime(str(unserved_lake)).serving.put_bars([Bar(*first, Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0,
                                                           "old", "0")])
    env = {**os.environ, "TICKERLAKE_FAILPOINT": "serving.before_checkpoint", "TICKERLAKE_FAILPOINT_ACTION": "kill"}
    killed = subprocess.run([sys.executable, "-c", _SERVE_STAGE, str(unserved_lake)], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert "failpoint serving.before_checkpoint" in killed.stderr.decode()

    assert _served(unserved_lake) == _published(unserved_lake)
    runtime = open_runtime(str(unserved_lake))
    result = sync(runtime, visibility_timeout=1)
    assert (result.announced, result.received, result.written) == (0, 0, 0)  # nothing to redo
    assert _served(unserved_lake) == _published(unserved_lake)
