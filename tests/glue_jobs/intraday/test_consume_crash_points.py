"""The consumer killed at each crash point (before writing, mid-batch, after a history file,
after writing and before the checkpoint) and run again ends exactly where an uninterrupted run
does: no record lost, no history row or serving item twice, no alert sent twice."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.lake.quote_record import encode
from tests.glue_jobs.intraday.lake_state import alert_keys, history_rows, rejected, served
from tests.glue_jobs.intraday.quotes import OPEN_MS, quote

ROOT = Path(__file__).resolve().parents[3]
SYMBOLS = ["IBM", "MSFT", "AAPL"]
BATCH = 4


def fill(log_path: Path) -> int:
    """Three symbols over two shards; IBM moves +8 % (an anomaly), MSFT crosses 405 (a level),
    one AAPL record has a zero price (rejected)."""
    # two shards, and IBM's 8 records pass sequence 9 -> 10 ("10" < "9" as text)
    log = SqliteStream(log_path, shards=2, clock=lambda: OPEN_MS / 1000 + 60)
    n = 0
    for i in range(1, 9):
        for symbol, base in (("IBM", 100), ("MSFT", 400), ("AAPL", 200)):
            price = Decimal(base) + Decimal(i) * (1 if symbol != "IBM" else Decimal(base) / 100)
            q = quote(symbol, str(price), i, previous_close=str(base))
            if symbol == "AAPL" and i == 5:
                q = quote(symbol, "0", i, previous_close=str(base), low=Decimal(0))
            log.put(symbol, encode(q))
            n += 1
    return n


def drain(lake: Path, log_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT),
            "TICKERLAKE_ALERTS_FILE": str(lake.parent / "alerts.yml"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tests.glue_jobs.intraday.drain_script", str(lake), str(log_path),
                           str(BATCH)], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def outcome(lake: Path) -> tuple:
    return history_rows(lake), sorted(alert_keys(lake)), served(lake, SYMBOLS), rejected(lake)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple:
    base = tmp_path_factory.mktemp("clean")
    (base / "alerts.yml").write_text("price_levels: {MSFT: [405]}\n")
    fill(base / "log.sqlite")
    done = drain(base / "lake", base / "log.sqlite")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["records"], result["accepted"], result["rejected"]) == (24, 23, 1)
    return outcome(base / "lake")


def test_an_uninterrupted_run_serves_keeps_and_alerts_everything_once(clean):
    history, alerts, serving, rejects = clean
    assert len(history) == 23 and len(set(history)) == 23
    assert alerts == ["intraday_move|IBM|2026-11-30", "intraday_price_cross|MSFT|2026-11-30"]
    assert len(serving["IBM"][0]) == 8 and serving["IBM"][1][0] == 8
    assert len(rejects) == 1


@pytest.mark.parametrize("point,hit", [
    ("intraday.before_write", 2),
    ("intraday.after_history_file", 2),
    ("intraday.mid_batch", 2),
    ("intraday.before_checkpoint", 2),
    ("intraday.before_checkpoint", 4),
])
def test_a_consumer_killed_at_a_crash_point_converges_on_the_clean_outcome(tmp_path, clean, point, hit):
    (tmp_path / "alerts.yml").write_text("price_levels: {MSFT: [405]}\n")
    fill(tmp_path / "log.sqlite")
    killed = drain(tmp_path / "lake", tmp_path / "log.sqlite",
                   {"TICKERLAKE_FAILPOINT": point, "TICKERLAKE_FAILPOINT_HIT": str(hit)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"failpoint {point}" in killed.stderr
    again = drain(tmp_path / "lake", tmp_path / "log.sqlite")
    assert again.returncode == 0, again.stderr
    assert outcome(tmp_path / "lake") == clean
    log = SqliteStream(tmp_path / "log.sqlite", clock=lambda: OPEN_MS / 1000 + 60)
    assert all(s.checkpoint == s.last_sequence and s.lag == 0 for s in log.status("processor"))


def test_a_replay_of_everything_changes_nothing_and_alerts_nothing(tmp_path, clean):
    (tmp_path / "alerts.yml").write_text("price_levels: {MSFT: [405]}\n")
    fill(tmp_path / "log.sqlite")
    assert drain(tmp_path / "lake", tmp_path / "log.sqlite").returncode == 0
    # the consumer starts over from the beginning: a checkpoint never moves back through the
    # port, so the test removes it from the log's file
    with sqlite3.connect(tmp_path / "log.sqlite") as con:
        con.execute("delete from checkpoints")
    again = drain(tmp_path / "lake", tmp_path / "log.sqlite")
    result = json.loads(again.stdout)
    assert (result["written"], result["history_rows"], result["alerts_sent"]) == (0, 0, 0)
    assert result["stale"] > 0
    assert outcome(tmp_path / "lake") == clean
