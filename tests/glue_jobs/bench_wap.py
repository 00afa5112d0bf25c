"""How long the WAP takes on the local runtime (not a test; run by hand):

    .venv/bin/python -m tests.glue_jobs.bench_wap 10 100      # symbols, sessions per symbol
    .venv/bin/python -m tests.glue_jobs.bench_wap 500 1260    # about 5 years

Lands synthetic-like bodies (valid random-walk bars) for one ingest run into a temporary
lake, runs every WAP stage, and prints seconds per stage (the audit's GE share too)."""
from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time

from glue_jobs.local_runtime import local_context, run_wap
from tests.glue_jobs.wap_fixtures import land_synthetic


def main(symbols: int, days: int, runs: int = 2) -> None:
    as_of = dt.date(2024, 3, 8)
    with tempfile.TemporaryDirectory() as lake:
        for n in range(runs):
            ctx = local_context(lake, run_id=f"20240308T23000{n}Z-bench{n}", as_of=as_of)
            t0 = time.monotonic()
            land_synthetic(ctx.storage, run_id=f"20240308T22000{n}Z-ing{n}", as_of=as_of,
                           symbols=[f"S{i:04d}" for i in range(symbols)], days=days)
            landed = time.monotonic() - t0
            timings = {}
            t_all = time.monotonic()
            results = {}
            for stage in ("crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish"):
                t = time.monotonic()
                results.update(run_wap(ctx, (stage,)))
                timings[stage] = time.monotonic() - t
            total = time.monotonic() - t_all
            audit = results["audit"]
            print(f"run {n + 1}: {symbols} symbols x {days} sessions = {results['write_temp']['raw_rows']} raw rows "
                  f"(landing {landed:.1f}s)")
            print("   " + "  ".join(f"{k} {v:.2f}s" for k, v in timings.items()) + f"  | WAP {total:.2f}s")
            print(f"   audit: {audit['chunks']} chunk(s), GE validate {audit['ge_seconds']:.2f}s; publish: "
                  f"{results['publish']['partitions_written']} written, "
                  f"{results['publish']['partitions_unchanged']} unchanged")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
