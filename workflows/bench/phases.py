"""The benchmark's phases, each run in its own child process by workflows.bench.isolate.
Every phase takes plain JSON-able arguments and returns a dict of figures.

    land       synthetic raw bodies through the real ingest stage (not timed as a target)
    wap        crawl .. after_publish on a lake through the local runner, as `tickerlake run` does
    floor      the engine reads the raw table and writes it as Parquet, nothing else
    format_floor  the same, written in the published files' format (their columns, zstd)
    audited_floor  the floor plus what an audited backfill cannot leave out, each done once
    naive      what a user would write by hand with pandas
    queries    every dashboard panel query, the analysis queries and views, on the lake
    ingestion  rate planning against the fake Alpha Vantage on a simulated clock
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from glue_jobs.lake import layout
from workflows.bench import intraday_phase, serving_phase

WAP_STAGES = ["crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish"]


def symbol_names(count: int) -> list[str]:
    """Made-up tickers: T0000, T0001, ..."""
    return [f"T{i:04d}" for i in range(count)]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# A real day's fetch restates a few older bars: one symbol in RESTATE_EVERY gets the
# synthetic `restated` fault (a close and a volume revised), so revisions are measured work.
RESTATE_EVERY = 50


def restated_faults(count: int) -> str:
    """The --faults spec of a bench day: `restated` for every RESTATE_EVERY-th symbol."""
    return ",".join(f"restated:{s}" for s in symbol_names(count)[::RESTATE_EVERY])


def land(lake: str, symbols: int, start: str | None, as_of: str, run_id: str, faults: str = "") -> dict[str, Any]:
    """One synthetic ingest run: every symbol's sessions from `start` to `as_of`, or, without
    `start`, the compact body a daily run fetches (the last 100 sessions)."""
    from glue_jobs.runtime import open_runtime
    from ingestion.run_ingest import ingest
    from ingestion.sources import build_planner, build_source

    started = time.monotonic()
    result = ingest(open_runtime(str(lake), create=True).storage, run_id=run_id, as_of=_date(as_of), symbols=symbol_names(symbols),
                    source=build_source("synthetic", faults=faults or None),
                    planner=build_planner("synthetic", env={}), start=_date(start) if start else None)
    if result.status != "ok":
        raise RuntimeError(f"landing synthetic data failed: {result.status} {result.problems[:3]}")
    return {"rows": result.counts["raw_rows"], "bodies": result.counts["raw_objects"],
            "seconds": round(time.monotonic() - started, 3)}


def _warm_imports() -> float:
    """Import what a run imports on first use (Great Expectations takes seconds) and start
    Great Expectations once, so the timed run measures the pipeline's work, not the process's
    start (reported apart)."""
    started = time.monotonic()
    import great_expectations  # noqa: F401

    import workflows.runner  # noqa: F401
    from glue_jobs.audit import rules
    from glue_jobs.audit import stage as audit

    audit.Suite(rules.load_rules())  # GE's first context in a process sets up its registries
    import duckdb

    duckdb.connect().close()  # so does DuckDB's first connection
    return time.monotonic() - started


def wap(lake: str, symbols: int, as_of: str) -> dict[str, Any]:
    """Raw to published: crawl, drop temp, write temp, audit, publish, after publish."""
    import_seconds = _warm_imports()
    from glue_jobs.lake.run_log import RunLog
    from glue_jobs.runtime import open_runtime
    from workflows.runner import run_stages
    from workflows.settings import Settings

    settings = Settings(lake=lake, symbols=symbol_names(symbols), as_of=_date(as_of), symbols_given=True)
    lines: list[str] = []

    def say(line: str) -> None:  # kept for the result, and shown in the phase's log as it goes
        lines.append(line)
        print(line, flush=True)

    # what the landing before left for the disk to write would otherwise be written during the run
    os.sync()
    started = time.monotonic()
    outcome = run_stages(settings, WAP_STAGES, say=say)
    seconds = time.monotonic() - started
    doc = RunLog.load(open_runtime(str(lake), create=True).storage, outcome.run_id).doc
    stages = {name: float(doc["stages"][name].get("seconds") or 0.0) for name in WAP_STAGES}
    audit = outcome.stages.get("audit", {})
    totals = outcome.totals
    if not totals.get("reconciled"):
        raise RuntimeError(f"the run did not reconcile: {totals}")
    return {
        "seconds": round(seconds, 3),
        "import_seconds": round(import_seconds, 3),
        "stages": stages,
        "rows": int(totals.get("raw_rows", 0)),
        "published_rows": int(totals.get("published_rows", 0)),
        "quarantined_rows": int(totals.get("quarantined_rows", 0)),
        "ge_seconds": float(audit.get("ge_seconds", 0.0)),
        "run_id": outcome.run_id,
        "log": lines,
    }


def command(lake: str, symbols: int, as_of: str, faults: str, workdir: str) -> dict[str, Any]:
    """A real day as a user runs it: `tickerlake run --source synthetic` (ingest of the compact
    bodies, every WAP stage, the dashboard page) in a process of its own, timed from its start;
    the stages' seconds from the run log."""
    import subprocess
    import sys

    symbols_file = Path(workdir) / "bench_symbols.txt"
    symbols_file.write_text("\n".join(symbol_names(symbols)) + "\n", encoding="utf-8")
    os.sync()
    # a process of its own, as a user starts it (the bench may not import the CLI: the CLI runs
    # the bench); its peak memory counts in this phase's, which the kernel takes over children
    started = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "workflows.cli.main", "run", "--lake", lake, "--source",
                            "synthetic", "--symbols-file", str(symbols_file), "--date", as_of, "--faults", faults])
    seconds = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"tickerlake run exited {code}")
    from glue_jobs.lake.run_log import RunLog
    from glue_jobs.runtime import open_runtime

    storage = open_runtime(str(lake)).storage
    newest = sorted(k for k in storage.list_keys("runs/") if k.endswith(".json"))[-1]
    doc = RunLog.load(storage, newest.rsplit("/", 1)[-1][:-5]).doc
    # the serve stage (publish's bars into the serving table) sits between publish and after_publish
    stages = {name: float(stage.get("seconds") or 0.0) for name, stage in doc["stages"].items()}
    totals = doc.get("totals", {})
    if not totals.get("reconciled"):
        raise RuntimeError(f"the run did not reconcile: {totals}")
    return {
        "seconds": round(seconds, 3),
        "wap_seconds": round(sum(v for k, v in stages.items() if k != "ingest"), 3),
        "run_log_seconds": float(doc.get("seconds") or 0.0),
        "stages": stages,
        "rows": int(totals.get("raw_rows", 0)),
        "published_rows": int(totals.get("published_rows", 0)),
        "unchanged_rows": int(totals.get("unchanged_rows", 0)),
        "quarantined_rows": int(totals.get("quarantined_rows", 0)),
        "ge_seconds": float(doc["stages"]["audit"].get("counts", {}).get("ge_seconds", 0.0)),
        "run_id": doc["run_id"],
    }


def page(lake: str, as_of: str, out: str) -> dict[str, Any]:
    """The dashboard page rendered on the lake (every panel's query, then the HTML), warm
    imports: what `tickerlake dashboard` costs beyond starting."""
    from glue_jobs.runtime import open_runtime
    from workflows.dashboards import render_dashboard

    runtime = open_runtime(str(lake))
    started = time.monotonic()
    render_dashboard(runtime.engine, Path(out), as_of=_date(as_of))
    return {"seconds": round(time.monotonic() - started, 3)}


def _raw_files(lake: str) -> list[str]:
    from glue_jobs.runtime import open_runtime

    storage = open_runtime(str(lake), create=True).storage
    return [storage.uri(k) for k in storage.list_keys(layout.RAW_PREFIX) if k.endswith(".csv")]


# A floor is the least the work can take: the best of two runs, so that a run slowed by what the
# disk was still writing does not lift it (one run alone measured 11.0 and 15.7 s across benches).
FLOOR_RUNS = 2


def floor(lake: str) -> dict[str, Any]:
    """The engine reads the raw CSV files with their known types and writes year partitions
    sorted by symbol and date (workflows/bench/sql/floor_duckdb.sql), on DuckDB directly: the
    best of FLOOR_RUNS."""
    return _plain_floor(lake, "floor_duckdb.sql", "floor")


def format_floor(lake: str) -> dict[str, Any]:
    """The floor written in the published files' format: the columns and compression publish
    writes (workflows/bench/sql/format_floor_duckdb.sql): the best of FLOOR_RUNS."""
    return _plain_floor(lake, "format_floor_duckdb.sql", "format_floor")


def _plain_floor(lake: str, sql_name: str, folder: str) -> dict[str, Any]:
    import duckdb

    out = Path(lake) / "bench" / folder
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw_glob = str(Path(lake) / layout.RAW_PREFIX / "**" / "*.csv")
    sql = _bench_sql(sql_name, {"raw_glob": raw_glob, "out_dir": str(out)})
    connection = duckdb.connect()

    def once() -> dict[str, Any]:
        started = time.monotonic()
        connection.execute(sql)
        return {"seconds": round(time.monotonic() - started, 3)}

    best, runs = _best_of(FLOOR_RUNS, out, once)
    rows = connection.execute(f"select count(*) from read_parquet('{out}/**/*.parquet')").fetchone()[0]
    connection.close()
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": best["seconds"], "runs": runs, "rows": int(rows)}


def _best_of(count: int, out: Path, once: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    """The quickest of `count` runs of `once` (each on an emptied `out`), and every run's seconds."""
    runs = []
    for _ in range(count):
        shutil.rmtree(out, ignore_errors=True)
        runs.append(once())
    return min(runs, key=lambda r: r["seconds"]), [r["seconds"] for r in runs]


def audited_floor(lake: str) -> dict[str, Any]:
    """The least an audited backfill does (on DuckDB directly): every line's text checked and
    typed, written once in the published order (workflows/bench/sql/checked_floor_duckdb.sql),
    then one window pass over it for the series rules (series_floor_duckdb.sql). Against the
    floor it says how near 2x any pipeline that keeps those checks can come."""
    import duckdb

    out = Path(lake) / "bench" / "audited_floor"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw_glob = str(Path(lake) / layout.RAW_PREFIX / "**" / "*.csv")
    connection = duckdb.connect()

    def once() -> dict[str, Any]:
        started = time.monotonic()
        connection.execute(_bench_sql("checked_floor_duckdb.sql", {"raw_glob": raw_glob, "out_dir": str(out)}))
        written = time.monotonic()
        found = connection.execute(_bench_sql("series_floor_duckdb.sql", {"temp_glob": f"{out}/**/*.parquet"})).fetchone()
        ended = time.monotonic()
        return {"seconds": round(ended - started, 3), "write_seconds": round(written - started, 3),
                "series_seconds": round(ended - written, 3), "rows": int(found[0])}

    best, runs = _best_of(FLOOR_RUNS, out, once)
    connection.close()
    shutil.rmtree(out, ignore_errors=True)
    return {**best, "runs": runs}


def naive(lake: str, out: str) -> dict[str, Any]:
    """Read every raw file with pandas, concatenate, drop duplicates, write partitioned Parquet."""
    import pandas as pd

    files = _raw_files(lake)
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    frames = []
    for path in files:
        frame = pd.read_csv(path)
        frame["symbol"] = layout.parse_hive_key(path)["symbol"]
        frames.append(frame)
    prices = pd.concat(frames, ignore_index=True)
    prices = prices.drop_duplicates(["symbol", "timestamp"], keep="last")
    prices["trade_year"] = prices["timestamp"].str[:4].astype(int)
    prices.to_parquet(out, partition_cols=["trade_year"], index=False)
    seconds = time.monotonic() - started
    rows = len(prices)
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": round(seconds, 3), "rows": rows, "files": len(files)}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000.0, value


def queries(lake: str, as_of: str, sessions: int, repeats: int) -> dict[str, Any]:
    """Every dashboard panel query (as the page runs them: the dashboard's default range of
    `sessions` sessions and its default symbols), then the analysis queries and views."""
    from glue_jobs.lake import sql_files
    from glue_jobs.lake.sql_files import Identifier
    from glue_jobs.runtime import build_local
    from workflows.dashboards.panels import load_spec
    from workflows.dashboards.render import resolve_selection, run_panel

    _, _, engine, _ = build_local(lake)
    spec = load_spec()
    selection_ms, selection = _timed(lambda: resolve_selection(engine, spec, as_of=_date(as_of), sessions=sessions))
    panels: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    for panel in spec.panels:
        runs = []
        for _ in range(repeats):
            ms, data = _timed(lambda p=panel: run_panel(engine, p, selection))
            if data.error:
                errors[panel.id] = data.error[:200]
                break
            runs.append(round(ms, 1))
        panels[panel.id] = runs
    views: dict[str, float] = {}
    symbol = selection.variables.get("symbol", ["T0000"])[0]
    for name in sql_files.names("queries"):
        sql = sql_files.render(name, {"symbol": symbol} if "symbol" in sql_files.placeholders(sql_files.load(name)) else {})
        views[name] = round(_timed(lambda s=sql: engine.query(s))[0], 1)
    for name in sql_files.names("views"):
        view = Path(name).stem
        if "stocks.intraday_quotes" in sql_files.table_refs(sql_files.load(name)):
            continue  # the intraday history's view: a stock's days are the daily views' (trade_date)
        sql = _bench_sql("view_for_symbol.sql",
                               {"view": Identifier(f"{layout.DATABASE}.{view}"), "symbol": symbol})
        views[f"{view} (one symbol)"] = round(_timed(lambda s=sql: engine.query(s))[0], 1)
    tr = selection.time_range
    return {
        "panels": panels,
        "errors": errors,
        "views": views,
        "selection": f"{tr.start:%Y-%m-%d}..{tr.end:%Y-%m-%d}, {len(selection.variables.get('symbol', []))} symbols",
        "selection_ms": round(selection_ms, 1),
        "first_run_ms": {k: v[0] for k, v in panels.items() if v},
        "median_ms": {k: statistics.median(v) for k, v in panels.items() if v},
    }


def ingestion(workdir: str, free_days: int, premium_minutes: int) -> dict[str, Any]:
    """Calls per window against the fake Alpha Vantage, which enforces the key's limits."""
    from workflows.bench.ingest_sim import free_key, premium_key

    root = Path(workdir)
    return {"free": free_key(root / "ingest_free", free_days),
            "premium": premium_key(root / "ingest_premium", premium_minutes)}


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "land": land,
    "wap": wap,
    "command": command,
    "page": page,
    "floor": floor,
    "format_floor": format_floor,
    "audited_floor": audited_floor,
    "naive": naive,
    "queries": queries,
    "ingestion": ingestion,
    "serving": serving_phase.serving,
    "intraday": intraday_phase.intraday,
}


def _bench_sql(name: str, params: dict) -> str:
    """The bench's own SQL (workflows/bench/sql/): it measures, it is not part of the pipeline."""
    from glue_jobs.lake import sql_files

    path = Path(__file__).parent / "sql" / name
    return sql_files.render_text(path.read_text(encoding="utf-8"), params, origin=f"workflows/bench/sql/{name}")
