import datetime as dt

import pyarrow as pa
import pytest

from glue_jobs.lake import layout, merge_plan


def test_each_touched_partition_gets_a_fresh_version_location_and_keeps_its_current_one():
    current = {"2023": "warehouse/daily_prices/trade_year=2023/v=old/"}
    writes = merge_plan.plan_writes("daily_prices", "trade_year", [2024, "2023", 2024], current, "run9")
    assert [w.values for w in writes] == [{"trade_year": "2023"}, {"trade_year": "2024"}]
    assert writes[0].current == "warehouse/daily_prices/trade_year=2023/v=old/"
    assert writes[1].current is None
    assert writes[0].target == layout.partition_version_prefix("daily_prices", {"trade_year": "2023"}, "run9")
    assert all(w.target != w.current for w in writes)


def test_a_location_that_already_holds_files_is_never_reused():
    taken = layout.partition_version_prefix("daily_prices", {"trade_year": "2024"}, "run9")
    current = {"2024": taken}  # a previous attempt of the same run already switched to it
    second = layout.partition_version_prefix("daily_prices", {"trade_year": "2024"}, "run9-2")
    writes = merge_plan.plan_writes("daily_prices", "trade_year", [2024], current, "run9", {second})
    assert writes[0].target == layout.partition_version_prefix("daily_prices", {"trade_year": "2024"}, "run9-3")


def test_statements_never_touch_more_than_athenas_100_partitions():
    years = list(range(1800, 2051))  # 251 partitions, e.g. a table partitioned finer than by year
    writes = merge_plan.plan_writes("t", "k", years, {}, "v")
    groups = merge_plan.statements(writes)
    assert [len(g) for g in groups] == [100, 100, 51]
    assert [w for g in groups for w in g] == writes


def test_chunked_rejects_a_silly_size():
    with pytest.raises(ValueError, match="size must be positive"):
        merge_plan.chunked([1, 2], 0)


def _prices(rows):
    return pa.table({
        "symbol": [r[0] for r in rows],
        "trade_date": pa.array([r[1] for r in rows], pa.date32()),
        "close": [r[2] for r in rows],
    })


def test_checksum_ignores_row_order_but_sees_any_changed_value():
    d1, d2 = dt.date(2024, 1, 2), dt.date(2024, 1, 3)
    a = _prices([("AAA", d1, 10.0), ("BBB", d2, 20.0)])
    reordered = _prices([("BBB", d2, 20.0), ("AAA", d1, 10.0)])
    changed = _prices([("AAA", d1, 10.0), ("BBB", d2, 20.5)])
    extra = _prices([("AAA", d1, 10.0), ("BBB", d2, 20.0), ("BBB", d2, 20.0)])
    assert merge_plan.content_checksum(a) == merge_plan.content_checksum(reordered)
    assert merge_plan.content_checksum(a) != merge_plan.content_checksum(changed)
    assert merge_plan.content_checksum(a) != merge_plan.content_checksum(extra)
    assert merge_plan.content_checksum(None) == merge_plan.content_checksum(a.slice(0, 0))


def test_checksum_does_not_depend_on_how_a_writer_marks_nullability():
    a = _prices([("AAA", dt.date(2024, 1, 2), 10.0)])
    strict = a.cast(pa.schema([pa.field(f.name, f.type, nullable=False) for f in a.schema]))
    assert merge_plan.content_checksum(a) == merge_plan.content_checksum(strict)
