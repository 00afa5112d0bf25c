"""What the loader takes from a switch: every bar whose published row changed in any column
(a correction of the volume alone, or of the close alone, must reach the serving table), the
bars that are new, and deletions for the keys the switch removed; nothing for the rows the
switch left as they were."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import parquet, published_manifest
from glue_jobs.lake.tables import PRICE_COLUMNS
from glue_jobs.serve.loader import changes

D = dt.date


def rows(*bars):
    """(symbol, day, close, volume, run) -> a published partition's rows."""
    schema = parquet.schema_of(list(PRICE_COLUMNS))
    data = {name: [] for name in schema.names}
    for symbol, day, close, volume, run in bars:
        values = {"symbol": symbol, "trade_date": day, "open": 10.0, "high": max(12.5, close), "low": 9.25,
                  "close": close, "volume": volume, "ingest_run_id": run}
        for name in schema.names:
            data[name].append(values.get(name))
    return pa.table(data, schema=schema)


def manifest_of(storage, old, new):
    parquet.write_table(storage, "warehouse/daily_prices/trade_year=2024/v=old/part-0.parquet", old)
    parquet.write_table(storage, "warehouse/daily_prices/trade_year=2024/v=new/part-0.parquet", new)
    doc = published_manifest.build("20240105T230000Z-bbbbbb", {"2024": ("warehouse/daily_prices/trade_year=2024/v=new/",
                                                                      "warehouse/daily_prices/trade_year=2024/v=old/")})
    return published_manifest.parse(published_manifest.to_bytes(doc))


def test_the_loader_takes_every_changed_column_the_new_keys_and_the_removed_keys(tmp_path):
    storage = LocalStorage(str(tmp_path))
    old = rows(("AAA", D(2024, 1, 2), 11.0, 100, "i1"),  # unchanged
               ("AAA", D(2024, 1, 3), 11.5, 100, "i1"),  # volume corrected
               ("BBB", D(2024, 1, 2), 20.0, 300, "i1"),  # close corrected
               ("BBB", D(2024, 1, 3), 20.5, 300, "i1"),  # refetched, same values, new run
               ("CCC", D(2024, 1, 2), 30.0, 500, "i1"))  # gone from the new version
    new = rows(("AAA", D(2024, 1, 2), 11.0, 100, "i1"),
               ("AAA", D(2024, 1, 3), 11.5, 150, "i1"),  # the same run id: only the column differs
               ("BBB", D(2024, 1, 2), 20.25, 300, "i1"),
               ("BBB", D(2024, 1, 3), 20.5, 300, "i2"),
               ("DDD", D(2024, 1, 4), 0.1, 7, "i2"))  # new
    bars, deletions = changes(storage, manifest_of(storage, old, new))
    assert [(b.symbol, b.trade_date, b.close, b.volume, b.ingest_run_id) for b in bars] == [
        ("AAA", "2024-01-03", Decimal("11.5"), 150, "i1"),
        ("BBB", "2024-01-02", Decimal("20.25"), 300, "i1"),
        ("BBB", "2024-01-03", Decimal("20.5"), 300, "i2"),
        ("DDD", "2024-01-04", Decimal("0.1"), 7, "i2"),  # the shortest text of the double, exactly
    ]
    assert {b.version for b in bars} == {"20240105T230000Z-bbbbbb"}
    assert [(d.symbol, d.trade_date, d.version) for d in deletions] == [("CCC", "2024-01-02", "20240105T230000Z-bbbbbb")]


def test_a_first_publish_takes_every_bar(tmp_path):
    storage = LocalStorage(str(tmp_path))
    new = rows(("AAA", D(2024, 1, 2), 11.0, 100, "i1"), ("AAA", D(2024, 1, 3), 11.5, 100, "i1"))
    parquet.write_table(storage, "warehouse/daily_prices/trade_year=2024/v=new/part-0.parquet", new)
    doc = published_manifest.build("20240105T230000Z-bbbbbb", {"2024": ("warehouse/daily_prices/trade_year=2024/v=new/", None)})
    bars, deletions = changes(storage, published_manifest.parse(published_manifest.to_bytes(doc)))
    assert [(b.trade_date, b.close) for b in bars] == [("2024-01-02", Decimal("11")), ("2024-01-03", Decimal("11.5"))]
    assert deletions == []
