"""The local quotes table's WAL checkpoints run in a thread beside the consumer's batches, not
inside a batch's commit: what is written still reaches the database file as the stream goes,
the WAL stays bounded, and a process killed before a checkpoint loses no quote."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable
from glue_jobs.adapters.local.sqlite_files import BackgroundCheckpoint
from glue_jobs.ports.serving import Quote
from tests.support.sqlite_wal import rows_in_the_file_alone

ROOT = Path(__file__).resolve().parents[4]
NOW = 1_796_050_800  # epoch seconds: every quote below expires a day after


def _quotes(start: int, count: int, symbol: str = "IBM") -> list[Quote]:
    return [Quote(symbol=symbol, session="2026-11-30", event_time_ms=(NOW + n) * 1000, source="synthetic",
                  sequence=n, price=Decimal("101.5"), previous_close=Decimal("100"), change=Decimal("1.5"),
                  change_percent=Decimal("1.5"), moving_average=Decimal("100.75"), volume=100 * n,
                  anomaly=False, expires_at=NOW + 86_400)
            for n in range(start, start + count)]


def _batch(number: int) -> list[Quote]:
    """1,000 quotes of 100 symbols, as the consumer writes a batch: pages all over the table."""
    return [q for n in range(100) for q in _quotes(number * 10, 10, symbol=f"S{n:03d}")]


def test_a_batch_commits_into_the_wal_without_checkpointing(tmp_path):
    path = tmp_path / "quotes.sqlite"
    table = SqliteQuotesTable(path)
    for number in range(19):  # below CHECKPOINT_ROWS in all
        table.put_quotes(_batch(number))
    # past the 1,000 WAL pages at which SQLite's own checkpoint would have run inside a commit
    assert os.path.getsize(f"{path}-wal") > 1000 * 4096
    assert rows_in_the_file_alone(path, tmp_path, "quotes") == 0
    assert len(table.recent("S042", now=NOW)) == 190
    table.close()
    assert rows_in_the_file_alone(path, tmp_path, "quotes") == 19_000  # the last close checkpoints, as before


def test_a_long_stream_of_batches_is_checkpointed_as_it_goes_and_keeps_its_wal_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(BackgroundCheckpoint, "CHECKPOINT_ROWS", 1000)
    path = tmp_path / "quotes.sqlite"
    table = SqliteQuotesTable(path)
    for number in range(10):
        table.put_quotes(_batch(number))
        table._checkpoints.wait()
    assert rows_in_the_file_alone(path, tmp_path, "quotes") == 10_000
    # each write after a checkpoint restarted the WAL from its start: it holds about a batch's
    # pages, not every batch's (which would make it larger than the table itself)
    assert os.path.getsize(f"{path}-wal") < os.path.getsize(path) / 2
    table.close()
    assert [q.sequence for q in SqliteQuotesTable(path).recent("S099", now=NOW, last=2)] == [98, 99]


_KILLED_BEFORE_ITS_CHECKPOINT = """
import sys
from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable
from glue_jobs.adapters.local.sqlite_files import BackgroundCheckpoint
from tests.glue_jobs.adapters.local.test_quotes_sqlite_checkpoints import _quotes

BackgroundCheckpoint.CHECKPOINT_ROWS = 100
table = SqliteQuotesTable(sys.argv[1])
for start in range(0, 500, 50):
    table.put_quotes(_quotes(start, 50))
table.close()
"""


def test_a_process_killed_before_a_checkpoint_keeps_every_committed_quote(tmp_path):
    path = tmp_path / "quotes.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TICKERLAKE_FAILPOINT": "quotes.before_checkpoint",
           "TICKERLAKE_FAILPOINT_ACTION": "kill"}
    killed = subprocess.run([sys.executable, "-c", _KILLED_BEFORE_ITS_CHECKPOINT, str(path)], cwd=ROOT, env=env,
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert "failpoint quotes.before_checkpoint" in killed.stderr.decode()
    # the batches committed before the kill are in the WAL, which the next open reads back
    kept = SqliteQuotesTable(path).recent("IBM", now=NOW)
    assert len(kept) >= 100 and [q.sequence for q in kept] == list(range(len(kept)))
