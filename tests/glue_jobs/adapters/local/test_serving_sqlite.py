"""The local serving table as a file: what survives a reopen, and what two connections see.
(The behaviour every serving table shares is in the serving contract suite.)"""
from __future__ import annotations

from decimal import Decimal

from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.ports.serving import Bar
from glue_jobs.runtime import SERVING_FILE, open_runtime


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
