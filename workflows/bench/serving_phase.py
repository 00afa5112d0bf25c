"""The serving table's figures (issue 13), measured on the bench's full lake after its days:

- rebuild: `tickerlake serve rebuild`'s work into an empty table, rows per second;
- a day into the serving table: the newest day's bars taken out of the table, then the serve
  path a run takes (announce the day's published manifest on the local queue, drain it through
  the loader), timed;
- `serve get` of one symbol's year through the table as `serve get` opens it, over many symbols;
- on AWS, DynamoDB write request units and their cost for that day and for a backfill, from the
  same counts and the item size DynamoDB bills (the runtime's cost model of its items)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import statistics
import time
from typing import Any

# DynamoDB on-demand, us-east-1, per million write request units (the November 2024 price).
WRU_PRICE_PER_MILLION = float(os.environ.get("TICKERLAKE_DDB_WRU_PRICE", "0.625"))
GET_SAMPLES = 200
REBUILD_VERSION = "29990101T000000Z-bench0"  # newer than every run the bench makes


def serving(lake: str, as_of: str) -> dict[str, Any]:
    from glue_jobs import runtime as runtimes
    from glue_jobs.lake import layout
    from glue_jobs.ports.serving import Deletion
    from glue_jobs.serve import rebuild
    from glue_jobs.serve.sync import sync

    table_file = os.path.join(lake, runtimes.SERVING_FILE)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(table_file + suffix):
            os.remove(table_file + suffix)
    rt = runtimes.open_runtime(lake)

    started = time.monotonic()
    built = rebuild.rebuild(rt.storage, rt.catalog, rt.serving, version=REBUILD_VERSION)
    rebuild_seconds = time.monotonic() - started

    # The day: its bars out of the table, every manifest but its own marked as announced, then
    # the serve stage's path (announce + drain through the loader).
    day_manifest = layout.published_manifest_key(_newest_run(rt))
    day_rows = _day_rows(rt, as_of)
    rt.serving.delete_bars([Deletion(r["symbol"], as_of, "99999999T999999Z-bench0") for r in day_rows])
    announced = {k: hashlib.sha256(rt.storage.get_bytes(k)).hexdigest()
                 for k in rt.storage.list_keys(layout.PUBLISHED_MANIFEST_PREFIX)
                 if layout.is_published_manifest_key(k) and k != day_manifest}
    rt.storage.put_bytes(layout.SERVING_EVENTS_KEY, json.dumps(announced).encode())
    started = time.monotonic()
    day = sync(rt)
    day_seconds = time.monotonic() - started
    if day.loaded_manifests != [day_manifest]:
        raise RuntimeError(f"the day's manifest {day_manifest} was not loaded: {day.failures[:3]}")

    symbols = sorted({r["symbol"] for r in day_rows})
    year_ago = (dt.date.fromisoformat(as_of) - dt.timedelta(days=365)).isoformat()
    reader = runtimes.open_runtime(lake).serving  # as `serve get` opens it
    rng = random.Random(7)
    latencies, sizes = [], []
    for symbol in rng.sample(symbols, min(GET_SAMPLES, len(symbols))):
        t0 = time.perf_counter()
        bars = reader.get_bars(symbol, start=year_ago, end=as_of)
        latencies.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(bars))

    sample = list(rt.serving.get_bars(symbols[0], start=year_ago, end=as_of))
    units = runtimes.serving_write_units(sample)
    per_bar = units / len(sample)
    return {
        "rebuild_rows": built.rows_read, "rebuild_written": built.written,
        "rebuild_seconds": round(rebuild_seconds, 3),
        "day_bars": len(day_rows), "day_written": day.written, "day_seconds": round(day_seconds, 3),
        "get_median_ms": round(statistics.median(latencies), 3), "get_worst_ms": round(max(latencies), 3),
        "get_bars_median": statistics.median(sizes), "get_samples": len(latencies),
        "wru_per_bar": per_bar, "wru_price_per_million": WRU_PRICE_PER_MILLION,
        "day_wru": round(day.written * per_bar), "backfill_wru": round(built.rows_read * per_bar),
    }


def _newest_run(rt: Any) -> str:
    from glue_jobs.lake import layout

    keys = [k for k in rt.storage.list_keys(layout.PUBLISHED_MANIFEST_PREFIX) if layout.is_published_manifest_key(k)]
    return max(k.rsplit("/", 1)[1].removesuffix(".json") for k in keys)


def _day_rows(rt: Any, as_of: str) -> list[dict]:
    from pathlib import Path

    from glue_jobs.lake import sql_files

    path = Path(__file__).parent / "sql" / "day_bars.sql"
    sql = sql_files.render_text(path.read_text(encoding="utf-8"), {"day": dt.date.fromisoformat(as_of)},
                                origin="workflows/bench/sql/day_bars.sql")
    return rt.engine.query(sql).to_pylist()
