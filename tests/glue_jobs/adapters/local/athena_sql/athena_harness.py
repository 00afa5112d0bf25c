"""The Athena twin's conformance harness: a local lake with one small table whose every value
is known, and helpers that run a statement the way a user's query runs (the production
engine's read_only_query) and return what a program reading Athena's result would see.

Expected answers in the conformance files are computed without DuckDB or sqlglot (from
Trino's documentation and source, or plain Python), and each case names the Trino
documentation section it checks. Extra data a case needs comes inline (WITH t(a, b) AS
(VALUES ...)), which Athena accepts too."""
from __future__ import annotations

import datetime as dt
import decimal
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.ports.catalog import Column, TableDef
from glue_jobs.ports.engine import QueryError
from glue_jobs.runtime import build_local

# stocks.prices: (symbol, trade_date, close, volume, note, traded_at)
PRICES = [
    ("AAPL", dt.date(2024, 1, 2), 185.64, 82488700, "a", dt.datetime(2024, 1, 2, 15, 59, 59, 123456)),
    ("AAPL", dt.date(2024, 1, 3), 184.25, 58414500, None, dt.datetime(2024, 1, 3, 15, 59, 58, 999999)),
    ("AAPL", dt.date(2024, 1, 4), None, 71983600, "c", dt.datetime(2024, 1, 4, 16, 0, 0)),
    ("MSFT", dt.date(2024, 1, 2), 370.87, 25258600, "x", None),
    ("MSFT", dt.date(2024, 1, 3), 370.60, 23083500, None, dt.datetime(2024, 1, 3, 9, 30, 0, 500)),
    ("IBM", dt.date(2024, 1, 2), 163.55, None, None, dt.datetime(2024, 1, 2, 10, 0, 0)),
]
PRICE_COLUMNS = [("symbol", "string"), ("trade_date", "date"), ("close", "double"), ("volume", "bigint"),
                 ("note", "string"), ("traded_at", "timestamp")]

def case_ids(cases) -> list[str]:
    """Each case's test id: its statement, with a backslash or a non-ASCII character written as
    U+XXXX. pytest escapes those characters in ids and keeps the escaped ids on the parametrize
    mark; a second collection in the same process (mutmut's fork server collects, then each run
    collects again) escapes them again, so the ids mutmut recorded are "not found" (pytest exit 4).
    """
    return [_id_safe(case[0]) for case in cases]


def _id_safe(sql: str) -> str:
    return "".join(ch if " " <= ch <= "~" and ch != "\\" else f"U+{ord(ch):04X}" for ch in sql)


ARROW_OF_ATHENA = {
    "bigint": pa.int64(), "integer": pa.int32(), "smallint": pa.int16(), "tinyint": pa.int8(),
    "double": pa.float64(), "real": pa.float32(), "varchar": pa.string(), "boolean": pa.bool_(),
    "date": pa.date32(), "timestamp(3)": pa.timestamp("ms"),
}


def arrow_type(athena_type: str) -> pa.DataType:
    """The Arrow type a program reading Athena's result (e.g. awswrangler) gets for a type."""
    t = athena_type.replace(" ", "")
    if t in ARROW_OF_ATHENA:
        return ARROW_OF_ATHENA[t]
    if t.startswith("decimal("):
        p, s = (int(x) for x in t[8:-1].split(","))
        return pa.decimal128(p, s)
    if t.startswith("array("):
        return pa.list_(arrow_type(t[6:-1]))
    if t.startswith("varchar("):
        return pa.string()
    raise ValueError(f"no Arrow type known for {athena_type!r}")


ENGINE_INTERNALS = ("DuckDB", "Binder", "Conversion Error", "Invalid Input Error", "error(", "INT32", "INT64",
                    "generate_series", "strftime", "strptime", "list_", "arg_min", "arg_max")


@dataclass
class Answer:
    names: list[str]
    types: list[pa.DataType]
    rows: list[tuple]


class Athena:
    """Runs statements on the local engine as `tickerlake query` does."""

    def __init__(self, engine):
        self.engine = engine

    def answer(self, sql: str) -> Answer:
        reader = self.engine.read_only_query(sql)
        table = reader.read_all()
        return Answer(table.column_names, list(table.schema.types),
                      [tuple(r[n] for n in table.column_names) for r in table.to_pylist()] if table.num_columns else [])

    def value(self, sql: str):
        """The one value of a one-row, one-column answer."""
        answer = self.answer(sql)
        assert len(answer.rows) == 1 and len(answer.names) == 1, answer
        return answer.rows[0][0]

    def refused(self, sql: str, words: str, section: str, *internals: str) -> None:
        """`sql` is refused with `words` in the message, and nothing of the engine that runs it
        (its name, error classes, functions the user did not write) reaches the user."""
        message = self.refusal(sql)
        assert words in message, (section, message)
        for internal in (*ENGINE_INTERNALS, *internals):
            assert internal not in message, (section, internal, message)

    def refusal(self, sql: str) -> str:
        """The message the engine refuses `sql` with (fails the test if it runs)."""
        with pytest.raises(QueryError) as caught:
            self.answer(sql)
        return str(caught.value)


@pytest.fixture(scope="session")
def athena(tmp_path_factory) -> Athena:
    lake = tmp_path_factory.mktemp("athena-twin") / "lake"
    storage, catalog, engine, _ = build_local(lake)
    names = [n for n, _ in PRICE_COLUMNS]
    table = pa.table({n: [r[i] for r in PRICES] for i, n in enumerate(names)},
                     schema=pa.schema([("symbol", pa.string()), ("trade_date", pa.date32()), ("close", pa.float64()),
                                       ("volume", pa.int64()), ("note", pa.string()), ("traded_at", pa.timestamp("us"))]))
    buf = io.BytesIO()
    pq.write_table(table, buf)
    storage.put_bytes("prices/part-00000.parquet", buf.getvalue())
    catalog.create_table(TableDef("stocks", "prices", "prices/", "parquet",
                                  [Column(n, t) for n, t in PRICE_COLUMNS]))
    return Athena(engine)


D = decimal.Decimal
