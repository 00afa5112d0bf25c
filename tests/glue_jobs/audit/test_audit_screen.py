"""Screening the row rules: the masks find what Great Expectations finds, GE sees only the
reduced rows, and a chunk whose masks GE contradicts is validated by GE in full."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit import screen as audit_screen
from glue_jobs.audit.row_checks import RowChecker, rule_frame
from glue_jobs.audit.stage import Suite
from tests.support.temp_chunks import temp_chunk

AS_OF = dt.date(2024, 3, 8)


@pytest.fixture(scope="module")
def book():
    return audit_rules.load_rules()


@pytest.fixture(scope="module")
def suite(book):
    return Suite(book)


def random_chunk(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    days = [dt.date(2024, 2, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 45, n)]
    rows = []
    for i in range(n):
        open_, close = rng.uniform(-1, 20), rng.uniform(0.5, 20)
        rows.append(dict(
            symbol=f"S{i % 7}", trade_date=days[i] if rng.random() > 0.02 else None,
            open=None if rng.random() < 0.02 else open_, close=close,
            high=max(open_, close) + rng.uniform(-0.5, 2), low=min(open_, close) - rng.uniform(-0.5, 2),
            volume=int(rng.integers(-10, 10**6)), forming_date=days[i] if rng.random() < 0.01 else None,
            parse_error="open 'x' is not a number" if rng.random() < 0.01 else None,
        ))
    return temp_chunk(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_masks_flag_exactly_the_rows_ge_fails_on_every_row(book, suite, seed):
    frame = audit_rules.derive(rule_frame(random_chunk(seed)),
                               as_of=AS_OF, rows_for_key={("S1", "2024-02-05"): 2})
    ge = suite.failing_positions(frame)
    screen = audit_screen.screen_chunk([(r.name, r.expectation, r.kwargs) for r in book.row_rules], frame)
    assert screen.complete
    assert {k: [int(p) for p in v] for k, v in screen.flagged.items() if len(v)} == ge
    assert len(ge) >= 6  # the random rows do break most rules
    # GE on the reduced rows alone, mapped back, agrees with the masks
    reduced = frame.iloc[screen.reduced].reset_index(drop=True)
    back = {rule: [int(screen.reduced[p]) for p in ps] for rule, ps in suite.failing_positions(reduced).items()}
    assert audit_screen.agrees(screen, back, [r.name for r in book.row_rules])
    witnesses = set(screen.reduced.tolist()) - set(screen.flagged_positions())
    assert len(witnesses) <= 2 * len(book.row_rules)  # GE sees the failing rows and a few others


def test_witnesses_bound_the_passing_values():
    frame = pd.DataFrame({"x": [5.0, np.nan, 1.0, 9.0, -3.0, 7.0], "s": [True, None, False, True, True, False]})
    between = {"column": "x", "min_value": 0}
    bad = audit_screen.failing_mask(audit_screen.BETWEEN, between, frame)
    assert bad.tolist() == [False, False, False, False, True, False]  # a null passes
    assert audit_screen.witnesses(audit_screen.BETWEEN, between, frame, bad).tolist() == [2, 3]  # 1.0 and 9.0
    in_set = {"column": "s", "value_set": [True]}
    bad = audit_screen.failing_mask(audit_screen.IN_SET, in_set, frame)
    assert bad.tolist() == [False, False, True, False, False, True]
    assert audit_screen.witnesses(audit_screen.IN_SET, in_set, frame, bad).tolist() == [0]
    assert audit_screen.screenable(audit_screen.BETWEEN, {"column": "x", "min_value": 0, "mostly": 0.9}) is False
    assert audit_screen.screenable("expect_column_values_to_match_regex", {"column": "x", "regex": "a"}) is False


class WrongMasks:
    """A suite that disagrees with the masks on the reduced rows (as if a mask were wrong)."""

    def __init__(self, real):
        self.real = real
        self.frames = []

    def failing_positions(self, frame):
        self.frames.append(len(frame))
        out = self.real.failing_positions(frame)
        if len(frame) < 100:  # the reduced rows: claim the first one fails the volume rule too
            out.setdefault("volume_not_negative", []).insert(0, 0)
        return out


def test_a_chunk_whose_masks_ge_contradicts_is_validated_in_full(book, suite):
    table = temp_chunk([{}] * 500 + [{"volume": -5, "raw_line": "2024-03-07,10,11,9.5,10.5,-5"}] + [{}] * 499)
    wrong = WrongMasks(suite)
    checker = RowChecker(book, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: wrong, reread=lambda n: table)
    assert checker.check(0, table) == []  # waits for GE
    [checked] = checker.finish()
    assert checker.chunks_in_full == 1 and wrong.frames[-1] == 1000  # GE saw every row
    assert checked.failing == {"volume_not_negative": [500]}
    assert checked.rows[500]["raw_line"].endswith(",-5") and checked.failing_table.num_rows == 1


def test_chunks_wait_for_one_ge_run_and_keep_their_failing_rows(book, suite):
    calls = []

    class Counting:
        def failing_positions(self, frame):
            calls.append(len(frame))
            return suite.failing_positions(frame)

    chunks = [temp_chunk([{}] * 300 + [{"high": 1.0}]), temp_chunk([{"low": 20.0}] + [{}] * 300)]
    checker = RowChecker(book, as_of=AS_OF, rows_for_key={}, suite_for=lambda rules: Counting(),
                         reread=lambda n: chunks[n])
    done = checker.check(0, chunks[0]) + checker.check(1, chunks[1]) + checker.finish()
    assert len(calls) == 1 and calls[0] < 50  # one GE validation, of the reduced rows only
    assert [(c.number, c.failing) for c in done] == [(0, {"high_is_highest": [300]}), (1, {"low_is_lowest": [0]})]
    assert checker.chunks_in_full == 0 and done[1].rows[0]["low"] == 20.0
