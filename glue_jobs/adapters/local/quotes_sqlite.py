"""The `quotes` serving table in a SQLite file: the local twin of the DynamoDB table, with the
same keys (symbol, sk), the same create-only and ordered conditional writes, and the same
expiry: an item past `expires_at` is invisible to reads at once and deleted by purge_expired,
as DynamoDB's TTL hides nothing but deletes within a day or two (so both adapters filter)."""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _json_text

from glue_jobs.adapters.local.sqlite_files import BackgroundCheckpoint, PerThread, Transaction
from glue_jobs.lake.quote_items import quote_from, window_from, window_text
from glue_jobs.ports.serving import CURRENT_SK, CurrentQuote, Quote, WriteResult

_SCHEMA = """
create table if not exists quotes (
    symbol text not null,
    sk text not null,
    event_time_ms integer not null,
    sequence integer not null,
    expires_at integer not null,
    item text not null,
    window text,
    primary key (symbol, sk)
) without rowid
"""
_CREATE = ("insert into quotes (symbol, sk, event_time_ms, sequence, expires_at, item) values (?, ?, ?, ?, ?, ?) "
           "on conflict (symbol, sk) do nothing")
# DynamoDB's "attribute_not_exists(symbol) OR (event_time_ms, sequence) < (:t, :q)"
_CURRENT = """
insert into quotes (symbol, sk, event_time_ms, sequence, expires_at, item, window) values (?, ?, ?, ?, ?, ?, ?)
on conflict (symbol, sk) do update set
    event_time_ms = excluded.event_time_ms, sequence = excluded.sequence, expires_at = excluded.expires_at,
    item = excluded.item, window = excluded.window
where quotes.event_time_ms < excluded.event_time_ms
   or (quotes.event_time_ms = excluded.event_time_ms and quotes.sequence < excluded.sequence)
"""


def _item(quote: Quote) -> str:
    """quote_attributes as JSON (decimals as exact text), keys in sorted order: the text
    json.dumps gives, spelled out as one format, as a batch pays this per quote (json.dumps of
    a dict was half the serving write's time). Only the three free texts need JSON escaping."""
    q = quote
    return _ITEM % (
        "true" if q.anomaly else "false", q.change, q.change_percent, int(q.event_time_ms), int(q.expires_at),
        q.moving_average, q.previous_close, q.price, int(q.sequence), _json_text(q.session),
        _json_text(q.source), _json_text(q.symbol), int(q.volume))


_ITEM = ('{"anomaly": %s, "change": "%s", "change_percent": "%s", "event_time_ms": %d, "expires_at": %d, '
         '"moving_average": "%s", "previous_close": "%s", "price": "%s", "sequence": %d, "session": %s, '
         '"source": %s, "symbol": %s, "volume": %d}')


class SqliteQuotesTable:
    """The QuotesTable of a local lake: <lake>/serving/quotes.sqlite."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        # the checkpoints run beside the writes, not inside a batch's commit (BackgroundCheckpoint)
        self._connections = PerThread(self.path, _SCHEMA, synchronous="normal",
                                      pragmas=("wal_autocheckpoint = 0",))
        self._checkpoints = BackgroundCheckpoint(self.path, "quotes table", failpoint="quotes.before_checkpoint")

    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def put_quotes(self, quotes: Sequence[Quote]) -> WriteResult:
        result = WriteResult()
        con = self._connection()
        rows = [(q.symbol, q.sort_key, q.event_time_ms, q.sequence, q.expires_at, _item(q)) for q in quotes]
        with Transaction(con):
            # one statement for the batch: rowcount sums the rows inserted, the rest existed
            result.written = max(0, con.executemany(_CREATE, rows).rowcount)
            result.stale = len(rows) - result.written
        self._checkpoints.written(result.written)
        return result

    def put_current(self, currents: Sequence[CurrentQuote]) -> WriteResult:
        result = WriteResult()
        con = self._connection()
        with Transaction(con):
            for c in currents:
                q = c.quote
                cursor = con.execute(_CURRENT, (q.symbol, CURRENT_SK, q.event_time_ms, q.sequence, q.expires_at,
                                                _item(q), window_text(c)))
                if cursor.rowcount:
                    result.written += 1
                else:
                    result.stale += 1
        self._checkpoints.written(result.written)
        return result

    def get_current(self, symbol: str, *, now: int) -> CurrentQuote | None:
        row = self._connection().execute(
            "select item, window from quotes where symbol = ? and sk = ? and expires_at > ?",
            (symbol, CURRENT_SK, now)).fetchone()
        if row is None:
            return None
        return CurrentQuote(quote_from(json.loads(row[0])), window_from(row[1] or ""))

    def recent(self, symbol: str, *, now: int, last: int | None = None) -> list[Quote]:
        if last is not None and last <= 0:
            return []
        sql = "select item from quotes where symbol = ? and sk like 'q#%' and expires_at > ? order by sk"
        params: list[object] = [symbol, now]
        if last is not None:
            sql = sql.replace("order by sk", "order by sk desc limit ?")
            params.append(last)
        rows = [json.loads(r[0]) for r in self._connection().execute(sql, params)]
        if last is not None:
            rows.reverse()
        return [quote_from(r) for r in rows]

    def purge_expired(self, *, now: int) -> int:
        purged = self._connection().execute("delete from quotes where expires_at <= ?", (now,)).rowcount
        self._checkpoints.written(purged)
        return purged

    def close(self) -> None:
        self._checkpoints.wait()
        self._connections.close()
