"""The intraday producer's use of the key's allowance (issue 14: at least 98 % of it with no
limit body), against the fake Alpha Vantage (tests/support), which enforces the key's limits and
answers a limit body when they are broken, on a simulated clock: `stream produce --source
alphavantage` at the tightest interval the key sustains, for a few minutes of a session (Friday
2026-11-20 from 10:00 New York), onto a local lake's stream log. Time moves only when the
producer sleeps, so the minutes take a second; every call is a real HTTP request."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from workflows.bench.ingest_sim import PREMIUM_PER_MINUTE, _fakes

SYMBOLS = 15  # 75 calls a minute over 15 symbols: a quote of each every 12 s
START = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.timezone.utc)  # the fake server's session, 10:00 New York


def producer_allowance(lake: Path, minutes: int) -> dict[str, Any]:
    from glue_jobs.runtime import open_runtime
    from ingestion.intraday.run_produce import ProduceRequest, run_produce

    fake_server, fake_clock = _fakes()
    shutil.rmtree(lake, ignore_errors=True)
    clock = fake_clock(START.timestamp())
    request = ProduceRequest(symbols=tuple(f"S{i:02d}" for i in range(SYMBOLS)), source="alphavantage",
                             duration_s=60 * minutes, calls_per_minute=PREMIUM_PER_MINUTE, calls_per_day=100_000)
    with fake_server(per_minute=PREMIUM_PER_MINUTE, daily_limit=100_000, clock=clock.now) as server:
        env = {"ALPHAVANTAGE_API_KEY": server.api_key, "ALPHAVANTAGE_BASE_URL": server.base_url}
        runtime = open_runtime(str(lake), create=True)
        log = runtime.stream
        try:
            result = run_produce(request, stream=log, storage=runtime.storage, engine=None, env=env,
                                 clock=clock.now, sleep=clock.sleep)
            put = sum(len(log.read(s, None, 1_000_000)) for s in log.shards())
        finally:
            log.close()
        calls = [c.at for c in server.calls]
        first = calls[0] if calls else 0.0
        per_minute = [sum(first + 60 * k <= at < first + 60 * (k + 1) for at in calls) for k in range(minutes)]
        limit_bodies = server.limit_bodies
    shutil.rmtree(lake, ignore_errors=True)
    return {"label": f"{PREMIUM_PER_MINUTE}/min key, {SYMBOLS} symbols, {minutes} simulated minutes",
            "interval_s": result.interval_s, "allowance": PREMIUM_PER_MINUTE, "calls_per_window": per_minute,
            "calls": len(calls), "put": put, "limit_bodies": limit_bodies}
