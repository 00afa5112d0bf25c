"""The audit's row checks chunk by chunk (glue_jobs.audit.row_checks): rules that cannot be
screened and chunks that cannot be screened go to GE whole, chunks wait for one GE run until
enough reduced rows wait, wide columns are read again only for failing rows, and each verdict
names its chunk, its rows and its years."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit.row_checks import RowChecker
from glue_jobs.audit.stage import Suite
from tests.support.temp_chunks import narrow, temp_chunk

AS_OF = dt.date(2024, 3, 8)
# GE checks it; the screen has no mask for a regular expression, so GE sees every row
WELL_FORMED = audit_rules.RowRule("symbol_well_formed", "", "expect_column_values_to_match_regex",
                                  {"column": "symbol", "regex": "^[A-Z.]+$"}, "{symbol} is not a ticker")
# screenable in form, but fetched_at is a timestamp the screen cannot compare: the chunk goes to GE whole
FETCHED_LATELY = audit_rules.RowRule("fetched_after_2000", "", "expect_column_values_to_be_between",
                                     {"column": "fetched_at", "min_value": dt.datetime(2000, 1, 1)},
                                     "fetched at {fetched_at}")


@pytest.fixture(scope="module")
def book():
    return audit_rules.load_rules()


class Reads:
    """The chunks by number, every column; records which ones the checker read again."""

    def __init__(self, chunks: dict):
        self.chunks = chunks
        self.numbers: list[int] = []

    def __call__(self, number: int):
        self.numbers.append(number)
        return self.chunks[number]


def test_rules_ge_must_see_whole_fail_rows_and_only_failing_narrow_chunks_are_read_again(book):
    mixed = dataclasses.replace(book, row_rules=book.row_rules + (WELL_FORMED,))
    built = []

    def suite_for(rules):
        built.append([r.name for r in rules])
        return Suite(mixed, rules)

    chunks = {
        0: temp_chunk([{}, {}, {"symbol": "a$b", "raw_line": "bad symbol"}, {}, {"volume": -5}]),
        1: temp_chunk([{}] * 4),
        2: temp_chunk([{}, {"symbol": "lower"}, {}, {}]),
    }
    reads = Reads(chunks)
    checker = RowChecker(mixed, as_of=AS_OF, rows_for_key={}, suite_for=suite_for, reread=reads)
    done = (checker.check(0, narrow(chunks[0])) + checker.check(1, narrow(chunks[1]))
            + checker.check(2, chunks[2]) + checker.finish())
    # GE is asked for the screened rules (to run on reduced rows) and for the regex rule alone
    assert built == [[r.name for r in book.row_rules], ["symbol_well_formed"]]
    assert [(c.number, c.failing) for c in done] == [
        (0, {"symbol_well_formed": [2], "volume_not_negative": [4]}),
        (1, {}),
        (2, {"symbol_well_formed": [1]}),
    ]
    assert done[0].rows[2]["raw_line"] == "bad symbol" and done[0].failing_table.num_rows == 2
    assert done[2].rows[1]["symbol"] == "lower" and done[2].rows[1]["raw_line"].startswith("2024-03-07,")
    # only the narrow chunk with failing rows is read again: not the clean one, not the one read whole
    assert reads.numbers == [0] and checker.chunks_in_full == 0


def test_a_book_of_unscreenable_rules_only_builds_no_screened_suite(book):
    only = dataclasses.replace(book, row_rules=(WELL_FORMED,))
    built = []

    def suite_for(rules):
        built.append([r.name for r in rules])
        return Suite(only, rules)

    table = temp_chunk([{}, {"symbol": "x1"}])
    checker = RowChecker(only, as_of=AS_OF, rows_for_key={}, suite_for=suite_for, reread=Reads({0: table}))
    done = checker.check(0, table) + checker.finish()
    assert built == [["symbol_well_formed"]]
    assert [(c.number, c.failing) for c in done] == [(0, {"symbol_well_formed": [1]})]


def test_chunks_the_screen_cannot_judge_are_validated_whole_at_once(book):
    unjudged = dataclasses.replace(book, row_rules=book.row_rules + (FETCHED_LATELY, WELL_FORMED))
    chunks = {
        3: temp_chunk([{}, {"fetched_at": dt.datetime(1999, 12, 31), "raw_line": "old"},
                       {"symbol": "b@d", "trade_date": dt.date(2023, 12, 29), "trade_year": 2023}]),
        4: temp_chunk([{"volume": -1, "raw_line": "negative"}, {}]),
    }
    reads = Reads(chunks)
    checker = RowChecker(unjudged, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: Suite(unjudged, rules),
                         reread=reads)
    [first] = checker.check(3, narrow(chunks[3]))  # final at once: nothing waits for GE
    [second] = checker.check(4, narrow(chunks[4]))
    assert checker.finish() == [] and checker.chunks_in_full == 2
    assert (first.number, first.num_rows, first.rows_by_year) == (3, 3, {"2023": 1, "2024": 2})
    assert first.failing == {"fetched_after_2000": [1], "symbol_well_formed": [2]}
    assert first.rows[1]["raw_line"] == "old" and first.positions == [1, 2]
    assert (second.number, second.num_rows, second.failing) == (4, 2, {"volume_not_negative": [0]})
    assert second.rows[0]["raw_line"] == "negative" and reads.numbers == [3, 4]


class WrongFirst:
    """GE on the reduced rows claims the first one fails the volume rule (as if a mask were wrong)."""

    def __init__(self, real):
        self.real = real

    def failing_positions(self, frame):
        out = self.real.failing_positions(frame)
        if len(frame) < 100:
            out.setdefault("volume_not_negative", []).insert(0, 0)
        return out


def test_a_contradicted_chunk_is_checked_whole_and_the_others_still_come_back(book):
    chunks = {7: temp_chunk([{}] * 150 + [{"volume": -5}]), 8: temp_chunk([{"high": 1.0}] + [{}] * 150)}
    reads = Reads(chunks)
    checker = RowChecker(book, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: WrongFirst(Suite(book, rules)),
                         reread=reads)
    assert checker.check(7, narrow(chunks[7])) + checker.check(8, narrow(chunks[8])) == []
    done = checker.finish()
    assert [(c.number, c.num_rows, c.failing) for c in done] == [
        (7, 151, {"volume_not_negative": [150]}),  # contradicted: validated whole, the real verdict
        (8, 151, {"high_is_highest": [0]}),
    ]
    assert checker.chunks_in_full == 1 and done[0].rows[150]["volume"] == -5


def test_waiting_chunks_go_to_ge_when_the_reduced_rows_reach_flush_rows(book):
    # identical valid rows reduce to one row (one witness for every rule), a bad row adds one
    one_bad, clean = temp_chunk([{}, {"volume": -5}, {}]), temp_chunk([{}] * 3)
    checker = RowChecker(book, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: Suite(book, rules),
                         reread=Reads({}), flush_rows=3)
    assert checker.check(0, one_bad) == []  # 2 reduced rows wait
    assert [c.number for c in checker.check(1, clean)] == [0, 1]  # 3: both go to GE
    assert checker.check(2, one_bad) == []  # counting starts again: 2 wait
    [last] = checker.finish()
    assert (last.number, last.failing) == (2, {"volume_not_negative": [1]})


def test_ge_seconds_sums_the_time_spent_in_ge(book):
    class Slow:
        """GE taking 0.15 s a validation, and finding nothing (the chunks are clean)."""

        def failing_positions(self, frame):
            time.sleep(0.15)
            return {}

    checker = RowChecker(book, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: Slow(), reread=Reads({}))
    started = time.monotonic()
    for number in range(2):  # two GE validations
        checker.check(number, temp_chunk([{}, {}]))
        assert [c.failing for c in checker.finish()] == [{}]
    elapsed = time.monotonic() - started
    assert 0.3 <= checker.ge_seconds <= elapsed
