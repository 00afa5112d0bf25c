"""Shared pieces of the fault tests: the lakes they start from, running `tickerlake run` (as a
process that may die, or in this process), and what a reader sees, as content checksums.

A reader's view of prod is two tables, each read through the local engine the way `tickerlake
query` reads them. Two checksums per table:

- full: every column, so "exactly as before the run" means byte-for-byte the same rows;
- business: the columns that do not depend on when or in which run a row was fetched
  (run ids, fetch times and file paths differ between two lakes built by identical runs), so
  "exactly as after a clean run" compares a lake with a reference lake built separately.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

D_1 = dt.date(2024, 3, 7)  # the day already published
D = dt.date(2024, 3, 8)  # the day the faulty run is for
SYMBOLS = "AAPL,MSFT,IBM,XOM,V"
# bad rows (quarantined) and duplicates (dropped), so the quarantine and the accounting are exercised
FAULTS = "bad_rows:AAPL,duplicates:MSFT"

PRICES = "daily_prices"
QUARANTINE = "daily_prices_quarantine"
PRICE_BUSINESS = ["symbol", "trade_date", "open", "high", "low", "close", "volume", "trade_year"]
QUARANTINE_BUSINESS = ["symbol", "trade_date", "open", "high", "low", "close", "volume", "ingest_date",
                       "raw_line", "rule", "reason", "trade_year"]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def run_argv(lake: Path, day: dt.date = D, *extra: str) -> list[str]:
    return ["run", "--lake", str(lake), "--date", day.isoformat(), "--symbols", SYMBOLS,
            "--faults", FAULTS, "--no-dashboard", *extra]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any tickerlake / Alpha Vantage setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TICKERLAKE_", "ALPHAVANTAGE_"))}
    env.update(extra)
    return env


def run_process(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120,
                ) -> subprocess.CompletedProcess:
    """`tickerlake <argv>` as its own process (it may be killed by a failpoint)."""
    return subprocess.run([sys.executable, "-m", "workflows.cli.main", *argv], capture_output=True, text=True,
                          env=env or clean_env(), timeout=timeout, cwd=REPO)


def start_process(argv: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workflows.cli.main", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or clean_env(), cwd=REPO)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """`tickerlake <argv>` through the CLI's main in this process: (exit code, stdout, stderr).
    Cheaper than a process once Great Expectations is imported; same code path."""
    from workflows.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# -- what a reader sees ------------------------------------------------------------------------


def _digest(rows: list[tuple]) -> str:
    # None sorts first; every value compared as text after its type name, so mixed types sort
    keyed = sorted(rows, key=lambda r: [(v is not None, type(v).__name__, str(v)) for v in r])
    return hashlib.sha256(repr(keyed).encode()).hexdigest()


@dataclass(frozen=True)
class TableView:
    rows: int
    full: str  # every column
    business: str  # business columns, every row (a multiset)
    distinct: str  # business columns, each distinct row once


@dataclass(frozen=True)
class ProdView:
    prices: TableView
    quarantine: TableView


def read_table(engine, table: str, business: list[str]) -> TableView:
    result = engine.query(f"select * from stocks.{table}")
    names = result.column_names
    rows = [tuple(r[n] for n in names) for r in result.to_pylist()]
    picked = [tuple(r[n] for n in business) for r in result.to_pylist()]
    return TableView(len(rows), _digest(rows), _digest(picked), _digest(sorted(set(picked), key=repr)))


def read_prod(lake: Path) -> ProdView:
    """Both prod tables as a fresh reader (a new engine on the lake) sees them."""
    from glue_jobs.runtime import build_local

    _, _, engine, _ = build_local(lake)
    try:
        return ProdView(read_table(engine, PRICES, PRICE_BUSINESS), read_table(engine, QUARANTINE, QUARANTINE_BUSINESS))
    finally:
        engine.con.close()


def classify(seen: TableView, before: TableView, after: TableView) -> str:
    """'before', 'after', or 'MIXED' (neither: a half-published table)."""
    if seen.full == before.full:
        return "before"
    if seen.business == after.business:
        return "after"
    return "MIXED"


def views_readable(lake: Path) -> None:
    """Every analysis view and the example queries run without error (a reader's other paths)."""
    from glue_jobs.runtime import build_local

    _, _, engine, _ = build_local(lake)
    try:
        for view in ("daily_returns", "moving_averages", "volatility_20d", "high_low_52w"):
            engine.query(f"select count(*) as n from stocks.{view}")
    finally:
        engine.con.close()


def lock_holder(lake: Path) -> dict | None:
    path = lake / "locks" / "pipeline.lock"
    return json.loads(path.read_text()) if path.exists() else None


def run_log(lake: Path, run_id: str) -> dict:
    return json.loads((lake / "runs" / f"{run_id}.json").read_text())


def run_id_from(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.startswith("tickerlake run "):
            return line.split()[2].rstrip(":")
    raise AssertionError(f"no run id in the output:\n{stderr[-2000:]}")


# -- the fault matrix (collected across xdist workers, rendered by the controller) -------------


def record_matrix_row(section: str, row: dict) -> None:
    folder = ARTIFACTS / "fault_matrix.d"
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(f"{section}|{row.get('fault')}|{row.get('point')}".encode()).hexdigest()[:12]
    doc = {"section": section, "written_at": dt.datetime.now(dt.timezone.utc).timestamp(), **row}
    (folder / f"{name}.json").write_text(json.dumps(doc, default=str))
