"""A rebuild into an empty serving table takes the bulk path (columns, no comparison); into a
table that holds rows it compares. Both must leave the very same rows: the same keys, price
texts, volumes, run ids and versions (each partition's published version)."""
from __future__ import annotations

import sqlite3

from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.ports.serving import Bar
from glue_jobs.runtime import open_runtime
from glue_jobs.serve import published, rebuild
from tests.glue_jobs.serve.test_serve_on_a_lake import RUNS, publish_day

REBUILD = "29990101T000000Z-rebuil"


def rows(path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("select * from bars order by symbol, trade_date").fetchall()
    finally:
        con.close()


def test_a_rebuild_into_an_empty_table_writes_what_the_comparing_rebuild_writes(tmp_path):
    root = tmp_path / "lake"
    publish_day(root, "D-1")
    publish_day(root, "D")  # two years, two versions
    rt = open_runtime(str(root))
    bulk_path, compared_path = tmp_path / "bulk.sqlite", tmp_path / "compared.sqlite"

    bulk = rebuild.rebuild(rt.storage, rt.catalog, SqliteServingTable(bulk_path), version=REBUILD)
    compared_table = SqliteServingTable(compared_path)
    compared_table.put_bars([Bar("ZZZ", "2024-01-02", *(1,) * 4, 1, "r", "20000101T000000Z-old000")])  # not empty
    compared = rebuild.rebuild(rt.storage, rt.catalog, compared_table, version=REBUILD)

    assert rows(bulk_path) == rows(compared_path)  # ZZZ was deleted as extra
    assert (bulk.rows_read, bulk.written, bulk.deleted) == (compared.rows_read, compared.written, 0)
    assert compared.deleted == 1 and bulk.written == len(rows(bulk_path)) > 0
    # each row at its partition's published version (D rewrote 2023 too), not the rebuild's
    assert {r[8] for r in rows(bulk_path)} == {p.version for p in published.partitions(rt.storage, rt.catalog)} \
        == {RUNS["D"]}
    # the table it bulk-filled is a normal one: a second rebuild compares and writes nothing
    again = rebuild.rebuild(rt.storage, rt.catalog, SqliteServingTable(bulk_path), version=REBUILD)
    assert (again.written, again.deleted, again.unchanged) == (0, 0, bulk.rows_read)
