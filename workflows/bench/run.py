"""The benchmark, start to end: build synthetic lakes, measure every phase in its own process,
print the table with PASS/FAIL per target, write it to <workdir>/bench.md, clean up.

    tickerlake bench            # 5,000 symbols x 20 years (about 25M rows): many minutes
    tickerlake bench --quick    # the same at a small scale, under a minute (CI runs it)
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from workflows.bench import intraday_report, report, serving_report
from workflows.bench.isolate import run_phase
from workflows.bench.phases import restated_faults

# The history ends on a Tuesday late in the year, so an incremental day rewrites a nearly
# full year's partition: the expensive end of a daily run. Days follow it: the first also
# drops the backfill's temporary table (a one-off); the next three are the days measured,
# and the table shows the median of them (one run alone varies by a few tenths of a second
# with what the disk is still writing).
HISTORY_END = dt.date(2024, 11, 26)
FIRST_DAY = dt.date(2024, 11, 27)
NEW_DAYS = (dt.date(2024, 11, 29), dt.date(2024, 12, 2), dt.date(2024, 12, 3))  # 11-28 is Thanksgiving


@dataclass(frozen=True)
class Scale:
    name: str
    symbols: int
    history_days: int  # calendar days of history behind HISTORY_END (the small lake: a tenth)
    panel_repeats: int
    dashboard_sessions: int  # the dashboard's default range, now-1y
    free_days: int
    premium_minutes: int

    @property
    def label(self) -> str:
        years = self.history_days / 365.25
        span = f"{years:.0f} years" if years >= 1 else f"{self.history_days} days"
        return f"{self.symbols:,} symbols x {span}"


FULL = Scale("full", symbols=5000, history_days=7305, panel_repeats=5, dashboard_sessions=252,
             free_days=3, premium_minutes=10)
QUICK = Scale("quick", symbols=200, history_days=1461, panel_repeats=3, dashboard_sessions=252,
              free_days=2, premium_minutes=2)
# the intraday phase: records drained for the throughput; records a second put, for how long, for the latency
INTRADAY = {"full": {"records": 100_000, "rate": 1000, "seconds": 10.0},
            "quick": {"records": 20_000, "rate": 1000, "seconds": 5.0}}


def _start(days: int) -> str:
    return (HISTORY_END - dt.timedelta(days=days - 1)).isoformat()


def measure(scale: Scale, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Every figure of the table (see workflows.bench.report for how each is judged)."""
    full, small = workdir / "lake_full", workdir / "lake_small"
    for lake in (full, small):
        shutil.rmtree(lake, ignore_errors=True)
    m: dict[str, Any] = {"scale": asdict(scale), "scale_label": scale.label}

    def phase(name: str, label: str, **params: Any) -> dict[str, Any]:
        say(f"  {label} ...")
        started = time.monotonic()
        result = run_phase(name, params, workdir, label)
        say(f"  {label}: {time.monotonic() - started:.1f}s")
        return result

    backfill_run = f"{HISTORY_END:%Y%m%d}T220000Z-bench"
    end, day = HISTORY_END.isoformat(), NEW_DAYS[-1].isoformat()
    m["land_full"] = phase("land", "land_full", lake=str(full), symbols=scale.symbols,
                           start=_start(scale.history_days), as_of=end, run_id=backfill_run)
    m["land_small"] = phase("land", "land_small", lake=str(small), symbols=scale.symbols,
                            start=_start(scale.history_days // 10), as_of=end, run_id=backfill_run)
    m["backfill"] = phase("wap", "backfill_full", lake=str(full), symbols=scale.symbols, as_of=end)
    m["floor"] = phase("floor", "floor", lake=str(full))
    m["format_floor"] = phase("format_floor", "format_floor", lake=str(full))
    m["audited_floor"] = phase("audited_floor", "audited_floor", lake=str(full))
    m["naive"] = phase("naive", "naive", lake=str(full), out=str(workdir / "naive_out"))
    m["backfill_small"] = phase("wap", "backfill_small", lake=str(small), symbols=scale.symbols, as_of=end)
    for lake, key, backfill in ((full, "full", "backfill"), (small, "small", "backfill_small")):
        history = m[backfill]["rows"]
        days = []
        for n, session in enumerate((FIRST_DAY, *NEW_DAYS)):
            label = f"first_day_{key}" if n == 0 else f"day_{key}_{n}"
            # a real day as a user runs it: `tickerlake run --source synthetic`, which fetches the
            # compact bodies (100 sessions, the newest one new), with some older bars restated
            m[label] = phase("command", label, lake=str(lake), symbols=scale.symbols, as_of=session.isoformat(),
                             faults=restated_faults(scale.symbols), workdir=str(workdir))
            m[label]["history_rows"] = history
            history += scale.symbols  # one new session per symbol; restated bars replace their own
            if n:
                days.append(m[label])
        m[f"day_{key}"] = dict(sorted(days, key=lambda d: d["wap_seconds"])[len(days) // 2],
                               runs=[d["wap_seconds"] for d in days], commands=[d["seconds"] for d in days])
    m["page"] = phase("page", "page", lake=str(full), as_of=day, out=str(workdir / "page" / "index.html"))
    m["queries"] = phase("queries", "queries", lake=str(full), as_of=day, sessions=scale.dashboard_sessions,
                         repeats=scale.panel_repeats)
    m["serving"] = phase("serving", "serving", lake=str(full), as_of=day)
    m["ingestion"] = phase("ingestion", "ingestion", workdir=str(workdir), free_days=scale.free_days,
                           premium_minutes=scale.premium_minutes)
    m["intraday"] = phase("intraday", "intraday", workdir=str(workdir), **INTRADAY[scale.name])
    return m


def run_intraday(workdir: Path, *, records: int, rate: int, seconds: float,
                 say: Callable[[str], None] = print) -> list[report.Row]:
    """`tickerlake bench --intraday`: only the intraday consumer's phase, its rows judged."""
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"tickerlake bench --intraday in {workdir}: {records:,} records drained, then {rate:,}/s for {seconds:g} s "
        "followed")
    m = {"intraday": run_phase("intraday", {"workdir": str(workdir), "records": records, "rate": rate,
                                            "seconds": seconds}, workdir, "intraday")}
    shutil.rmtree(workdir / "intraday", ignore_errors=True)
    return intraday_report.intraday_rows(m)


def details(m: dict[str, Any]) -> str:
    """What the table summarises: per-stage seconds, per-panel latencies, data set sizes."""
    lines = ["", "## Details", ""]
    for key in ("backfill", "backfill_small", *[k for k in m if k.startswith(("first_day_", "day_full_", "day_small_"))]):
        r = m[key]
        if "wap_seconds" in r:
            lines.append(f"- {key}: `tickerlake run` {r['seconds']:.2f}s, WAP {r['wap_seconds']:.2f}s for {r['rows']:,} "
                         f"raw rows ({r['published_rows']:,} published, {r['unchanged_rows']:,} unchanged, "
                         f"{r['quarantined_rows']:,} quarantined; "
                         + ", ".join(f"{k} {v:.2f}s" for k, v in r["stages"].items())
                         + f"); peak {report.size(r['peak_rss'])}")
            continue
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in r["stages"].items())
        lines.append(f"- {key}: {r['seconds']:.2f}s for {r['rows']:,} raw rows ({stages}); "
                     f"GE {r['ge_seconds']:.2f}s; peak {report.size(r['peak_rss'])}")
    for key in [k for k in m if k.startswith("land_")]:
        r = m[key]
        lines.append(f"- {key} (synthetic ingest, not a target): {r['rows']:,} rows in {r['bodies']:,} bodies, "
                     f"{r['seconds']:.1f}s")
    q = m["queries"]
    lines.append(f"- dashboard selection ({q['selection']}): {q['selection_ms']:.0f} ms")
    for panel, runs in q["panels"].items():
        lines.append(f"- panel {panel}: " + ", ".join(f"{v:.0f}" for v in runs) + " ms")
    for name, ms in q["views"].items():
        lines.append(f"- {name}: {ms:.0f} ms")
    for key in ("free", "premium"):
        k = m["ingestion"][key]
        lines.append(f"- ingestion {k['label']}: {k['data_bodies']} data bodies, {k['limit_bodies']} limit bodies")
    return "\n".join(lines) + "\n"


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def run_bench(scale: Scale, workdir: Path, *, keep: bool = False,
              say: Callable[[str], None] = print) -> tuple[list[report.Row], Path]:
    """Measure (progress through `say`) and write the table; returns its rows and the bench.md path."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"tickerlake bench ({scale.name}: {scale.label}) in {workdir}")
    try:
        m = measure(scale, workdir, say)
    finally:
        if not keep:
            for name in ("lake_full", "lake_small", "naive_out", "ingest_free", "ingest_premium", "page", "intraday"):
                shutil.rmtree(workdir / name, ignore_errors=True)
    rows = report.build_rows(m) + serving_report.serving_rows(m) + intraday_report.intraday_rows(m)
    passed, failed = report.verdict_counts(rows)
    command = "tickerlake bench" + (" --quick" if scale.name == "quick" else "")
    header = (f"# tickerlake bench ({scale.name})\n\n`{command}` on {machine()}, "
              f"{dt.date.today().isoformat()}, {time.monotonic() - started:.0f}s in all: "
              f"{passed} targets met, {failed} missed.\n\n")
    text = header + report.markdown(rows) + "\n" + details(m)
    out = workdir / "bench.md"
    out.write_text(text, encoding="utf-8")
    (workdir / "bench.json").write_text(json.dumps(m, indent=1, default=str), encoding="utf-8")
    return rows, out
