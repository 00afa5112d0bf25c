"""The rebuild's bulk path reads a published partition as columns (glue_jobs.serve.published.columns)
instead of a Bar a row: it must hand the serving table exactly the text the per-row path stores
(str of Decimal(repr(double))) for every price, awkward doubles included, the same dates, volumes,
run ids and version, and refuse a row it cannot serve, naming the partition."""
from __future__ import annotations

import datetime as dt
import io
import math
import random
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.serve import published
from glue_jobs.serve.published import PublishedPartition, price, price_texts

AWKWARD = [
    0.1 + 0.2, 185.64, 100.0, 2.5, -0.0, 0.0, 1 / 3, 0.0001, 0.00009999, 1e-05, 1e-07, 9.999999999999999e15,
    1e16, 1.5e16, 123456789012345678.0, 1e22, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    1234567.891, 0.1, 7.0e-4, math.inf, -math.inf, math.nan,
]


def per_row(values):
    return [str(price(v)) for v in values]


def test_price_texts_are_the_per_row_text_of_awkward_doubles():
    assert price_texts(AWKWARD) == per_row(AWKWARD)
    # the ones where repr and Decimal's text differ, spelled out
    texts = dict(zip(map(repr, AWKWARD), price_texts(AWKWARD)))
    assert texts["1e-05"] == "0.00001" and texts["1e+16"] == "1E+16" and texts["nan"] == "NaN"
    assert texts["0.30000000000000004"] == "0.30000000000000004" and texts["100.0"] == "100.0"


def test_price_texts_are_the_per_row_text_of_random_doubles():
    rng = random.Random(13)
    any_bits = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(20_000)]
    prices = [round(rng.uniform(0.0001, 99_999), rng.randint(0, 6)) for _ in range(20_000)]
    for values in (any_bits, prices, [v for v in any_bits if abs(v) < 1e16]):
        assert price_texts(values) == per_row(values)


def _partition(tmp_path, tables: list[pa.Table]) -> tuple[LocalStorage, PublishedPartition]:
    storage = LocalStorage(tmp_path)
    location = "warehouse/daily_prices/trade_year=2024/v=20240105T230000Z-bbbbbb/"
    for n, table in enumerate(tables):
        sink = io.BytesIO()
        pq.write_table(table, sink)
        storage.put_bytes(f"{location}part-{n}.parquet", sink.getvalue())
    return storage, PublishedPartition({"trade_year": "2024"}, location, "20240105T230000Z-bbbbbb")


def _table(rows: list[tuple], run_column: str = "ingest_run_id") -> pa.Table:
    names = ["symbol", "trade_date", "open", "high", "low", "close", "volume", run_column]
    types = [pa.string(), pa.date32(), pa.float64(), pa.float64(), pa.float64(), pa.float64(), pa.int64(), pa.string()]
    return pa.table({n: pa.array([r[i] for r in rows], t) for i, (n, t) in enumerate(zip(names, types))})


def _rows(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    day = dt.date(2024, 1, 2)
    out = []
    for i in range(count):
        o = AWKWARD[i % len(AWKWARD)] if i % 7 == 0 else round(rng.uniform(1, 500), rng.randint(0, 4))
        out.append((f"S{rng.randint(0, 30):03d}", day + dt.timedelta(days=i % 200), o, o * 1.01, o * 0.99,
                    0.1 + 0.2, 2 ** 53 + i, None if i % 11 == 0 else f"run-{i % 3}"))
    return out


def test_columns_are_the_rows_by_symbol_makes_in_key_order(tmp_path):
    rows = {}
    for r in _rows(3000, seed=1) + _rows(2000, seed=2):
        rows[(r[0], r[1])] = r  # one row a key, as a published partition holds
    rows = list(rows.values())
    # two files, unsorted, one still with the run column's old name (run_id)
    storage, part = _partition(tmp_path, [_table(rows[:2500]), _table(rows[2500:], run_column="run_id")])
    expected = [(b.symbol, b.trade_date, str(b.open), str(b.high), str(b.low), str(b.close), b.volume,
                 b.ingest_run_id, b.version)
                for _, bars in published.by_symbol(storage, part) for b in bars]
    # the very rows the per-row path stores (SqliteServingTable's _row), in the same key order
    texts = [row for cols in published.columns(storage, part, batch_rows=700) for row in cols.rows()]
    assert texts == expected
    assert {t[7] for t in texts} == {"", "run-0", "run-1", "run-2"}  # a null run id is ""
    assert any(t[2] == "0.00001" for t in texts) and any(t[5] == "0.30000000000000004" for t in texts)
    assert len(texts) == len(rows)


@pytest.mark.parametrize("column", ["symbol", "trade_date", "close", "volume"])
def test_columns_refuse_a_row_without_a_value_naming_the_partition_and_column(tmp_path, column):
    rows = _rows(5, seed=3)
    table = _table(rows)
    index = table.column_names.index(column)
    values = table.column(column).to_pylist()
    values[2] = None
    storage, part = _partition(tmp_path, [table.set_column(index, column, pa.array(values, table.schema.field(column).type))])
    with pytest.raises(ValueError, match=rf"trade_year=2024 .*v=20240105T230000Z-bbbbbb.*no {column}"):
        list(published.columns(storage, part))
