"""Pure: the audit's row rules evaluated over whole columns at once, and the few rows Great
Expectations must see to reach, on them, the verdict it would reach on every row.

Great Expectations' pandas engine costs about a microsecond per row and rule: minutes for a
25-million-row backfill. So the failing rows are found here with vectorised masks, and GE
runs the suite on a reduced frame: every row a mask flags, plus witnesses that bound the
rows it passes. GE judges a row of these expectations by that row's value alone:

    between      monotone in the value: the smallest and largest passing value are witnesses
                 for every value between them;
    in_set       per distinct value: one row per distinct passing value;
    null, not_null
                 by null-ness only (pandas' isna, as GE's pandas engine): one passing row.

So when GE fails exactly the flagged rows and passes every witness, it would fail exactly
the flagged rows of the whole chunk. Any disagreement means a mask is wrong, and the audit
validates that chunk in full instead. Expectations not in SCREENED (or with options such as
`mostly`) always run on whole chunks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
NULL = "expect_column_values_to_be_null"
NOT_NULL = "expect_column_values_to_not_be_null"
# each screened expectation with the arguments it may have to be screened
SCREENED = {
    BETWEEN: {"column", "min_value", "max_value", "strict_min", "strict_max"},
    IN_SET: {"column", "value_set"},
    NULL: {"column"},
    NOT_NULL: {"column"},
}


def screenable(expectation: str, kwargs: dict) -> bool:
    """Whether a rule's failing rows can be found here (else GE sees every row)."""
    allowed = SCREENED.get(expectation)
    return allowed is not None and "column" in kwargs and set(kwargs) <= allowed


def _numbers(column: pd.Series) -> np.ndarray | None:
    """The column as floats (nan for null), or None when it is not numeric."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return None
    return column.to_numpy(dtype="float64", na_value=np.nan)



def _present(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy() >= 0
    return ~pd.isna(column.to_numpy())

def judge(expectation: str, kwargs: dict, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(failing mask, witness positions) of a rule over a chunk, or None when the column's
    type is not one this module knows how to compare. Each column is read once."""
    column = frame[kwargs["column"]]
    numbers = _numbers(column)
    present = ~np.isnan(numbers) if numbers is not None else _present(column)
    if expectation in (NULL, NOT_NULL):
        bad = present if expectation == NULL else ~present
        return bad, np.flatnonzero(~bad)[:1]
    if expectation == IN_SET:
        value_set = list(kwargs["value_set"])
        passing = present & column.isin(value_set).to_numpy()
        if len(value_set) == 1:
            firsts = np.flatnonzero(passing)[:1]
        else:  # one passing row per value of the set that occurs
            found = [np.flatnonzero(passing & column.isin([v]).to_numpy())[:1] for v in value_set]
            firsts = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        return present & ~passing, firsts
    if numbers is None:
        return None
    bad = np.zeros(len(numbers), dtype=bool)
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    with np.errstate(invalid="ignore"):
        if low is not None:
            bad |= (numbers <= low) if kwargs.get("strict_min") else (numbers < low)
        if high is not None:
            bad |= (numbers >= high) if kwargs.get("strict_max") else (numbers > high)
    bad &= present
    candidates = np.flatnonzero(present & ~bad)
    if candidates.size == 0:
        return bad, candidates
    values = numbers[candidates]
    return bad, np.unique(candidates[[int(np.argmin(values)), int(np.argmax(values))]])


def failing_mask(expectation: str, kwargs: dict, frame: pd.DataFrame) -> np.ndarray | None:
    """True for each row failing the rule as GE judges it (nulls pass every rule but
    not_null), or None when the column's type is not one this module knows how to compare."""
    judged = judge(expectation, kwargs, frame)
    return None if judged is None else judged[0]


def witnesses(expectation: str, kwargs: dict, frame: pd.DataFrame, bad: np.ndarray | None = None) -> np.ndarray:
    """Positions of the passing rows whose verdict stands for every passing row's."""
    judged = judge(expectation, kwargs, frame)
    return np.zeros(0, dtype=np.int64) if judged is None else judged[1]


@dataclass
class ChunkScreen:
    """One chunk's screening: per screened rule the flagged positions, and every position GE
    must see (flagged and witnesses). `complete` is False when a mask could not be computed:
    the chunk then goes to GE whole."""

    flagged: dict[str, np.ndarray] = field(default_factory=dict)
    reduced: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    complete: bool = True

    def flagged_positions(self) -> list[int]:
        """Every flagged position, once, in order."""
        if not self.flagged:
            return []
        return sorted({int(p) for ps in self.flagged.values() for p in ps})


def screen_chunk(rules: list[tuple[str, str, dict]], frame: pd.DataFrame) -> ChunkScreen:
    """Screen a chunk with (rule name, expectation, kwargs) triples of screenable rules."""
    out = ChunkScreen()
    keep: list[np.ndarray] = []
    for name, expectation, kwargs in rules:
        judged = judge(expectation, kwargs, frame)
        if judged is None:
            return ChunkScreen(complete=False)
        out.flagged[name] = np.flatnonzero(judged[0])
        keep += [out.flagged[name], judged[1]]
    out.reduced = np.unique(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)
    return out


def agrees(screen: ChunkScreen, ge_failing: dict[str, list[int]], rule_names: list[str]) -> bool:
    """Whether GE, run on the chunk's reduced rows (positions given in chunk terms), failed
    exactly the rows the masks flagged, rule by rule."""
    for name in rule_names:
        flagged = screen.flagged.get(name, np.zeros(0, dtype=np.int64))
        if sorted(int(p) for p in ge_failing.get(name, [])) != [int(p) for p in flagged]:
            return False
    return True
