"""Ingestion planning on a simulated clock against the fake Alpha Vantage (tests/support), which
enforces the key's limits and answers a limit body when they are broken. Time moves only when
the ingest loop sleeps, so days of calls take seconds; every call is a real HTTP request.

    free key     25 calls a UTC day, bursts faster than 1 call a second refused; one run a day
                 (as the daily schedule does), each carrying what the quota did not cover
    premium key  75 calls a minute, no daily cap; one run over many symbols

Each reports the calls the server counted per full window against the allowance, and the
limit bodies it sent (the planner should make the server send none).
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

FREE_PER_DAY = 25
FREE_MIN_SPACING_S = 1.0
PREMIUM_PER_MINUTE = 75
DAY_S = 86_400.0


def _fakes():
    """The fake server and clock live with the tests: a repository checkout is needed."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests" / "support" / "alphavantage_server.py").is_file():
        raise RuntimeError("the ingestion benchmark needs tests/support/ from a tickerlake checkout")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.support.alphavantage_server import FakeAlphaVantage
    from tests.support.clock import FakeClock

    return FakeAlphaVantage, FakeClock


def _ingest(lake: Path, server, clock, planner, symbols: list[str], run_id: str):
    from glue_jobs.runtime import open_runtime
    from ingestion.run_ingest import ingest
    from ingestion.sources import build_source

    source = build_source("alphavantage", env={}, api_key=server.api_key, base_url=server.base_url,
                          sleep=clock.sleep, clock=clock.now)
    return ingest(open_runtime(str(lake), create=True).storage, run_id=run_id, as_of=server.as_of, symbols=symbols, source=source,
                  planner=planner, sleep=clock.sleep, clock=clock.now)


def _symbols(count: int) -> list[str]:
    return [f"T{i:04d}" for i in range(count)]


def free_key(lake: Path, days: int) -> dict[str, Any]:
    """One scheduled run a day (22:00 UTC) for `days` days, with more symbols than the quota."""
    from ingestion.sources import build_planner

    fake_server, fake_clock = _fakes()
    shutil.rmtree(lake, ignore_errors=True)
    clock = fake_clock()
    symbols = _symbols(FREE_PER_DAY * days + 10)
    first_day = dt.datetime.fromtimestamp(clock.now(), tz=dt.timezone.utc).date()
    with fake_server(daily_limit=FREE_PER_DAY, min_spacing_s=FREE_MIN_SPACING_S, clock=clock.now) as server:
        for n in range(days):
            run_at = dt.datetime.combine(first_day + dt.timedelta(days=n + 1), dt.time(22, 0), dt.timezone.utc)
            clock.advance(max(0.0, run_at.timestamp() - clock.now()))
            # a fresh planner per run, as each scheduled run is its own process; it learns the
            # day's calls from the lake's state
            _ingest(lake, server, clock, build_planner("alphavantage", env={}), symbols,
                    f"{run_at:%Y%m%dT%H%M%SZ}-free{n}")
        per_day: dict[dt.date, int] = {}
        for call in server.calls:
            day = dt.datetime.fromtimestamp(call.at, tz=dt.timezone.utc).date()
            per_day[day] = per_day.get(day, 0) + 1
        data = sum(c.kind == "data" for c in server.calls)
        limit_bodies = server.limit_bodies
    shutil.rmtree(lake, ignore_errors=True)
    return {
        "label": f"free key ({FREE_PER_DAY}/day, >= {FREE_MIN_SPACING_S:g} s apart), {days} daily runs",
        "window": "UTC day",
        "allowance": FREE_PER_DAY,
        "calls_per_window": [per_day.get(first_day + dt.timedelta(days=n + 1), 0) for n in range(days)],
        "data_bodies": data,
        "limit_bodies": limit_bodies,
    }


def premium_key(lake: Path, minutes: int) -> dict[str, Any]:
    """One run over more symbols than `minutes` minutes of calls allow; full minutes counted
    from the first call."""
    from ingestion.sources import build_planner

    fake_server, fake_clock = _fakes()
    shutil.rmtree(lake, ignore_errors=True)
    clock = fake_clock()
    symbols = _symbols(PREMIUM_PER_MINUTE * (minutes + 1))
    # a premium user sets both limits; a 75-a-minute plan has no daily cap beyond 75 x 1440
    planner = build_planner("alphavantage", env={}, calls_per_minute=PREMIUM_PER_MINUTE,
                            calls_per_day=PREMIUM_PER_MINUTE * 1440)
    with fake_server(per_minute=PREMIUM_PER_MINUTE, clock=clock.now) as server:
        _ingest(lake, server, clock, planner, symbols, "20261118T220000Z-premium")
        calls = [c.at for c in server.calls]
        first = calls[0] if calls else 0.0
        per_minute = [sum(first + 60 * k <= at < first + 60 * (k + 1) for at in calls) for k in range(minutes)]
        data = sum(c.kind == "data" for c in server.calls)
        limit_bodies = server.limit_bodies
    shutil.rmtree(lake, ignore_errors=True)
    return {
        "label": f"premium key ({PREMIUM_PER_MINUTE}/min), one run of {len(symbols)} symbols",
        "window": "minute",
        "allowance": PREMIUM_PER_MINUTE,
        "calls_per_window": per_minute,
        "data_bodies": data,
        "limit_bodies": limit_bodies,
    }
