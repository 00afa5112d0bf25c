"""The local serving table as a file: what survives a reopen, and what two connections see.
(The behaviour every serving table shares is in the serving contract suite.)"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from decimal import Decimal

from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.adapters.local.sqlite_files import BackgroundCheckpoint
from glue_jobs.ports.serving import Bar, BarColumns
from glue_jobs.runtime import SERVING_FILE, open_runtime
from tests.support.sqlite_wal import rows_in_the_file_alone


def _bar(day: str, close: str, version: str) -> Bar:
    price = Decimal(close)
    return Bar("AAPL", day, price, price, price, price, 100, "r1", version)


def test_rows_survive_a_reopen_exactly_and_an_older_version_never_replaces_a_newer(tmp_path):
    path = tmp_path / "serving" / "bars.sqlite"
    table = SqliteServingTable(path)
    assert table.put_bars([_bar("2024-01-02", "185.64", "v2")]).written == 1
    table.close()
    again = SqliteServingTable(path)
    result = again.put_bars([_bar("2024-01-02", "1.0", "v1"), _bar("2024-01-02", "2.0", "v2")])
    assert (result.written, result.stale) == (0, 2)
    assert again.get_bars("AAPL")[0].close == Decimal("185.64")


def test_a_reader_sees_committed_rows_while_another_connection_writes(tmp_path):
    path = tmp_path / "bars.sqlite"
    writer, reader = SqliteServingTable(path), SqliteServingTable(path)
    writer.put_bars([_bar("2024-01-02", "1.5", "v1")])
    con = writer._connection()
    con.execute("begin immediate")  # a write in progress (WAL: readers are not blocked)
    con.execute("update bars set close = '9' where symbol = 'AAPL'")
    assert [b.close for b in reader.get_bars("AAPL")] == [Decimal("1.5")]
    con.execute("commit")
    assert [b.close for b in reader.get_bars("AAPL")] == [Decimal("9")]


def test_a_local_lake_opens_its_serving_table_in_its_own_folder(tmp_path):
    runtime = open_runtime(str(tmp_path / "lake"), create=True)
    runtime.serving.put_bars([_bar("2024-01-02", "1.5", "v1")])
    assert (tmp_path / "lake" / SERVING_FILE).is_file()
    assert runtime.context().serving.get_bars("AAPL", last=1)[0].trade_date == "2024-01-02"


def _columns(days: list[str], version: str) -> BarColumns:
    n = len(days)
    return BarColumns(["AAPL"] * n, days, ["185.64"] * n, ["186.0"] * n, ["1E-7"] * n, ["0.30000000000000004"] * n,
                      [2 ** 53 + 1] * n, ["r1"] * n, version)


def _journal(path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("pragma journal_mode").fetchone()[0]
    finally:
        con.close()


def test_a_bulk_write_leaves_the_file_in_wal_and_reopens_exactly(tmp_path):
    # The bulk path writes through the rollback journal when it has the file to itself; the
    # file must be back in WAL after it (readers read while the loader writes) and hold the rows.
    path = tmp_path / "bars.sqlite"
    table = SqliteServingTable(path)
    days = [f"2024-01-{d:02d}" for d in range(1, 29)]
    assert table.put_columns_unconditionally(_columns(days, "v1")).written == 28
    table.close()
    assert _journal(path) == "wal"
    again = SqliteServingTable(path)
    bars = again.get_bars("AAPL")
    assert [b.trade_date for b in bars] == days
    assert (str(bars[0].low), str(bars[0].close), bars[0].volume) == ("1E-7", "0.30000000000000004", 2 ** 53 + 1)


def test_a_bulk_write_while_a_reader_is_reading_stays_in_wal_and_does_not_wait(tmp_path):
    path = tmp_path / "bars.sqlite"
    writer, reader = SqliteServingTable(path), SqliteServingTable(path)
    writer.put_bars([_bar("2024-01-02", "1.0", "v1")])
    assert len(reader.get_bars("AAPL")) == 1
    reading = reader.scan()
    next(reading)  # the reader is inside a read transaction
    started = time.monotonic()
    assert writer.put_columns_unconditionally(_columns(["2024-01-03", "2024-01-04"], "v2")).written == 2
    assert time.monotonic() - started < 5  # not the 30 s busy timeout
    reading.close()
    assert [b.trade_date for b in reader.get_bars("AAPL")] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert _journal(path) == "wal"


def _days(n: int) -> list[str]:
    start = dt.date(2000, 1, 1)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(n)]


def test_a_long_stream_of_writes_is_checkpointed_into_the_file_as_it_goes(tmp_path, monkeypatch):
    # The writer never checkpoints inside a commit: the checkpoints run in a thread, so a
    # stream of writes that never closes the table must still reach the database file and
    # keep its WAL bounded.
    monkeypatch.setattr(BackgroundCheckpoint, "CHECKPOINT_ROWS", 100)
    path = tmp_path / "bars.sqlite"
    table = SqliteServingTable(path)
    days = _days(1000)
    for start in range(0, len(days), 50):
        table.put_bars([_bar(day, "1.5", "v1") for day in days[start:start + 50]])
    table._checkpoints.wait()
    assert rows_in_the_file_alone(path, tmp_path, "bars") == 1000
    assert os.path.getsize(f"{path}-wal") < 1000 * 4096  # restarted as the checkpoints went, not grown


def test_the_loader_asks_for_a_checkpoint_when_its_batch_is_done(tmp_path):
    path = tmp_path / "bars.sqlite"
    table = SqliteServingTable(path)
    table.put_bars([_bar(day, "1.5", "v1") for day in _days(30)])  # far below CHECKPOINT_ROWS
    assert rows_in_the_file_alone(path, tmp_path, "bars") == 0  # in the WAL only
    table.checkpoint_beside()
    table._checkpoints.wait()
    assert rows_in_the_file_alone(path, tmp_path, "bars") == 30
    assert [b.close for b in table.get_bars("AAPL", last=1)] == [Decimal("1.5")]
