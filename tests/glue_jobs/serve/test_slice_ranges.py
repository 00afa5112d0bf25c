"""How the loader cuts a partition too big for one invocation into slices of symbols."""
from __future__ import annotations

import pytest

from glue_jobs.serve.loader import slice_ranges


def test_consecutive_symbols_fill_each_slice_up_to_the_limit_in_symbol_order():
    counts = [("MSFT", 3), ("AAPL", 3), ("IBM", 2), ("XOM", 4), ("NVDA", 1)]
    assert slice_ranges(counts, 6) == [("AAPL", "IBM"), ("MSFT", "NVDA"), ("XOM", "XOM")]


def test_a_symbol_is_never_split_even_when_it_alone_is_over_the_limit():
    assert slice_ranges([("A", 2), ("B", 50), ("C", 2)], 10) == [("A", "A"), ("B", "B"), ("C", "C")]


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_every_symbol_is_in_exactly_one_slice_and_no_slice_is_over_the_limit_unless_one_symbol(limit):
    counts = [(f"S{n:03d}", 1 + n % 5) for n in range(60)]
    ranges = slice_ranges(counts, limit)
    weight = dict(counts)
    covered = []
    for first, last in ranges:
        inside = [s for s in sorted(weight) if first <= s <= last]
        covered += inside
        assert sum(weight[s] for s in inside) <= limit or len(inside) == 1
    assert covered == sorted(weight)


def test_nothing_to_slice_is_no_slice():
    assert slice_ranges([], 10) == []
