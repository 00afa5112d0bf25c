"""The serving table in a SQLite file (standard library, WAL): the local twin of the DynamoDB
table `bars`, with the same keys and the same conditional writes (see glue_jobs.ports.serving).

One row per (symbol, trade_date), the primary key, as DynamoDB's partition and sort keys. Prices
are stored as their exact decimal text, as DynamoDB stores numbers. A write replaces a row only
when its version is newer (an upsert whose update has a WHERE on the version), so a replay or a
late older message changes nothing, exactly as DynamoDB's ConditionExpression does there.
WAL lets readers (`tickerlake serve get`, the HTTP server) read while the loader writes."""
from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal

from glue_jobs.adapters.local.sqlite_files import BackgroundCheckpoint, PerThread, Transaction, sync_to_disk
from glue_jobs.ports.serving import Bar, BarColumns, Deletion, WriteResult

log = logging.getLogger(__name__)

_SCHEMA = """
create table if not exists bars (
    symbol text not null,
    trade_date text not null,
    open text not null,
    high text not null,
    low text not null,
    close text not null,
    volume integer not null,
    ingest_run_id text not null,
    version text not null,
    primary key (symbol, trade_date)
) without rowid;

-- The table's row count and newest version, kept by its own writes: counting 25 M rows took
-- 2.4 s of CPU on every dashboard render at 20 years of history. No row here means not counted
-- yet (a table filled in bulk, one made before the count was kept, or its newest version
-- deleted); totals() then counts once.
create table if not exists totals (
    id integer primary key check (id = 1),
    row_count integer not null,
    newest text
);
"""
_TRIGGERS = {
    "bars_counted_in": """create trigger if not exists bars_counted_in after insert on bars begin
    update totals set row_count = row_count + 1, newest = max(coalesce(newest, ''), new.version) where id = 1;
end""",
    "bars_counted_out": """create trigger if not exists bars_counted_out after delete on bars begin
    update totals set row_count = row_count - 1 where id = 1;
    delete from totals where id = 1 and old.version >= coalesce(newest, '');
end""",
    "bars_version_kept": """create trigger if not exists bars_version_kept after update of version on bars begin
    update totals set newest = max(coalesce(newest, ''), new.version) where id = 1;
    delete from totals where id = 1 and new.version < old.version and old.version >= coalesce(newest, '');
end""",
}
_SCHEMA += "".join(f"{sql};\n" for sql in _TRIGGERS.values())
_COLUMNS = "symbol, trade_date, open, high, low, close, volume, ingest_run_id, version"
_PUT = f"""
insert into bars ({_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
on conflict (symbol, trade_date) do update set
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume, ingest_run_id = excluded.ingest_run_id, version = excluded.version
where excluded.version > bars.version
"""
# The unconditional paths (rebuild): the published table is the truth, so no version
# condition. An upsert, not INSERT OR REPLACE, whose delete of the row it replaces would not
# reach the count's trigger (SQLite fires it only with recursive triggers on).
_REPLACE = f"""
insert into bars ({_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
on conflict (symbol, trade_date) do update set
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume, ingest_run_id = excluded.ingest_run_id, version = excluded.version
"""
_DELETE = "delete from bars where symbol = ? and trade_date = ? and version <= ?"
_EXISTS = "select 1 from bars where symbol = ? and trade_date = ?"


class SqliteServingTable:
    """The ServingTable of a local lake: <lake>/serving/bars.sqlite."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        # the checkpoints run beside the writes (BackgroundCheckpoint), not inside a commit
        self._connections = PerThread(self.path, _SCHEMA, synchronous="normal",
                                      pragmas=("wal_autocheckpoint = 0",))
        self._checkpoints = BackgroundCheckpoint(self.path, "serving table", failpoint="serving.before_checkpoint")

    def _connection(self) -> sqlite3.Connection:
        # NORMAL in WAL survives a crash of the process (what the loader's crash points test);
        # a power cut can lose the commits since the last checkpoint, so a caller about to
        # forget what it wrote (delete its queue message) calls make_durable first.
        return self._connections.get()

    def _written(self, rows: int) -> None:
        self._checkpoints.written(rows)

    def put_bars(self, bars: Sequence[Bar]) -> WriteResult:
        result = WriteResult()
        con = self._connection()
        with Transaction(con):
            for bar in bars:
                cursor = con.execute(_PUT, _row(bar))
                if cursor.rowcount:
                    result.written += 1
                else:
                    result.stale += 1
        self._written(result.written)
        return result

    def delete_bars(self, deletions: Sequence[Deletion]) -> WriteResult:
        result = WriteResult()
        con = self._connection()
        with Transaction(con):
            for d in deletions:
                cursor = con.execute(_DELETE, (d.symbol, d.trade_date, d.version))
                if cursor.rowcount:
                    result.deleted += 1
                elif con.execute(_EXISTS, (d.symbol, d.trade_date)).fetchone():
                    result.stale += 1  # a newer version holds the key; a key already gone is neither
        self._written(result.deleted)
        return result

    def put_bars_unconditionally(self, bars: Sequence[Bar]) -> WriteResult:
        con = self._connection()
        rows = [_row(bar) for bar in bars]
        with Transaction(con):
            con.executemany(_REPLACE, rows)  # in order: a repeated key's later row wins
        self._written(len(rows))
        return WriteResult(written=len(rows))

    def put_columns_unconditionally(self, columns: BarColumns) -> WriteResult:
        # The texts go in as they are: the caller made them exactly as _row does (str of the
        # Decimal of repr), so no Decimal a price here. One transaction for the whole call.
        con = self._connection()
        self._checkpoints.wait()  # its connection would keep the bulk write in WAL
        with _rollback_journal(con), Transaction(con):
            # The bulk write goes without the count's triggers (they added 20 to 30 % to each
            # row written): the count is taken again once, at the next totals().
            for name in _TRIGGERS:
                con.execute(f"drop trigger if exists {name}")
            con.execute("delete from totals")
            con.executemany(_REPLACE, columns.rows())
            for sql in _TRIGGERS.values():
                con.execute(sql)
        self._written(len(columns))
        return WriteResult(written=len(columns))

    def get_bars(self, symbol: str, *, start: str | None = None, end: str | None = None,
                 last: int | None = None) -> list[Bar]:
        if last is not None and last <= 0:
            return []  # SQLite reads LIMIT -1 as no limit at all
        where = "symbol = ?"
        params: list[object] = [symbol]
        if start is not None:
            where += " and trade_date >= ?"
            params.append(start)
        if end is not None:
            where += " and trade_date <= ?"
            params.append(end)
        if last is not None:
            sql = f"select {_COLUMNS} from bars where {where} order by trade_date desc limit ?"
            rows = self._connection().execute(sql, [*params, last]).fetchall()
            rows.reverse()
        else:
            sql = f"select {_COLUMNS} from bars where {where} order by trade_date"
            rows = self._connection().execute(sql, params).fetchall()
        return [_bar(r) for r in rows]

    def scan(self) -> Iterator[Bar]:
        for row in self._connection().execute(f"select {_COLUMNS} from bars"):
            yield _bar(row)

    def symbols(self) -> list[str]:
        return [r[0] for r in self._connection().execute("select distinct symbol from bars order by symbol")]

    def totals(self) -> tuple[int, str | None]:
        con = self._connection()
        kept = con.execute("select row_count, newest from totals where id = 1").fetchone()
        if kept is None:
            with Transaction(con):  # counted under the write lock: no write can fall between
                kept = con.execute("select count(*), max(version) from bars").fetchone()
                con.execute("insert or replace into totals (id, row_count, newest) values (1, ?, ?)", kept)
        rows, newest = kept
        return int(rows), newest or None

    def make_durable(self) -> None:
        # the writes commit at NORMAL: a sync per commit would cost each of the loader's
        # 500-bar chunks one, where the one here covers them all
        sync_to_disk(self.path)

    def checkpoint_beside(self) -> None:
        """Copy what the WAL holds into the database file in a thread, while the caller goes on
        (nothing when nothing was written since the last checkpoint)."""
        self._checkpoints.start()

    def close(self) -> None:
        self._checkpoints.wait()
        self._connections.close()


@contextlib.contextmanager
def _rollback_journal(con: sqlite3.Connection) -> Iterator[None]:
    """A bulk write in the rollback journal instead of WAL, when no other connection has the
    file open (SQLite refuses the switch otherwise, and the write stays in WAL): in WAL every
    page is written twice, to the log and again at the checkpoint; a rollback journal copies
    only the pages that existed before, next to nothing when the table is filled from empty,
    and is as crash-safe (an interrupted write is rolled back on the next open). WAL again after."""
    try:  # with another connection open SQLite answers "wal" at once, without waiting for it
        switched = con.execute("pragma journal_mode = delete").fetchone()[0] == "delete"
    except sqlite3.OperationalError:
        switched = False
    try:
        yield
    finally:
        if switched:
            con.execute("pragma journal_mode = wal")


def _row(bar: Bar) -> tuple:
    return (bar.symbol, bar.trade_date, str(bar.open), str(bar.high), str(bar.low), str(bar.close),
            int(bar.volume), bar.ingest_run_id, bar.version)


def _bar(row: tuple) -> Bar:
    symbol, trade_date, o, h, lo, c, volume, ingest_run_id, version = row
    return Bar(symbol, trade_date, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), int(volume), ingest_run_id, version)
