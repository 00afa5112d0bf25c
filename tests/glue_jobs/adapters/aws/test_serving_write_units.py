"""What a serving-table write costs on DynamoDB (the bench's AWS figures): the item size by
DynamoDB's rules (attribute names count; a number takes 1 byte per two significant digits plus
1; a string its UTF-8 bytes), one write request unit per started kilobyte."""
from __future__ import annotations

from decimal import Decimal

from glue_jobs.adapters.aws.serving_dynamodb import bar_item, item_bytes, write_units
from glue_jobs.ports.serving import Bar


def bar(run: str = "20240105T220000Z-ab12cd") -> Bar:
    return Bar("IBM", "2024-01-05", Decimal("185.64"), Decimal("186.1"), Decimal("184"), Decimal("185.00"),
               4_512_300, run, "20240105T230000Z-bbbbbb")


def test_a_bar_is_sized_by_dynamodbs_rules_and_costs_one_unit():
    sizes = {  # name bytes + value bytes
        "symbol": 6 + 3, "trade_date": 10 + 10,
        "open": 4 + 4,  # 185.64: 5 significant digits -> ceil(5/2) + 1
        "high": 4 + 3,  # 186.1: 4 digits -> 2 + 1
        "low": 3 + 3,  # 184: 3 digits -> 2 + 1
        "close": 5 + 3,  # 185.00: trailing zeros trimmed, 185 -> 2 + 1
        "volume": 6 + 4,  # 4512300: 45123 -> 3 + 1
        "ingest_run_id": 13 + 23, "version": 7 + 23,
    }
    assert item_bytes(bar_item(bar())) == sum(sizes.values())
    assert write_units(bar()) == 1


def test_an_item_over_a_kilobyte_costs_a_unit_per_started_kilobyte():
    small = item_bytes(bar_item(bar("")))
    assert write_units(bar("x" * (1024 - small))) == 1
    assert write_units(bar("x" * (1025 - small))) == 2
    assert write_units(bar("é" * 1024)) == 3  # two UTF-8 bytes a character
