"""The audit's row checks, chunk by chunk: derive the columns the rules check, find the failing
rows with vectorised masks (glue_jobs.audit.screen), and have Great Expectations validate the
suite on the reduced rows of many chunks at once, so GE's cost follows the failing rows, not
the batch. A chunk whose masks GE contradicts, or could not be screened, is validated by GE
in full; rules that cannot be screened always are.

    checker = RowChecker(book, as_of=..., rows_for_key=..., suite_for=Suite.for_rules, reread=...)
    for number, table in chunks:
        done += checker.check(number, table)      # chunks come back once GE has vouched for them
    done += checker.finish()
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit import screen as audit_screen

DEFAULT_FLUSH_ROWS = 250_000


def _day_text(dates: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO text of a date column, dictionary-encoded: a chunk holds few distinct days."""
    chunks = []
    for chunk in dates.chunks:
        encoded = pc.dictionary_encode(chunk)
        chunks.append(pa.DictionaryArray.from_arrays(encoded.indices, encoded.dictionary.cast(pa.string())))
    return pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))


def rule_frame(table: pa.Table) -> pd.DataFrame:
    """A chunk of the temp table as the rules see it: every column but raw_line (only the
    reasons of failing rows need it), text as pandas categories (few distinct values per chunk,
    so no Python object per row), and the dates also as ISO text, as derive expects."""
    narrow = table.drop_columns([c for c in ("raw_line",) if c in table.column_names])
    narrow = narrow.append_column("trade_day", _day_text(table.column("trade_date")))
    narrow = narrow.append_column("forming_day", _day_text(table.column("forming_date")))
    return narrow.to_pandas(strings_to_categorical=True)


@dataclass
class CheckedChunk:
    """One chunk's verdict: the failing positions per rule, and for each failing position the
    row's values (temp and derived columns) and its temp row (failing_table, in positions order)."""

    number: int
    num_rows: int
    failing: dict[str, list[int]]
    positions: list[int]
    rows: dict[int, dict[str, Any]]
    failing_table: pa.Table
    rows_by_year: dict[str, int]


@dataclass
class _Waiting:
    number: int
    num_rows: int
    screen: audit_screen.ChunkScreen
    whole_failing: dict[str, list[int]]
    kept: list[int]  # positions whose rows are kept for the reasons (flagged or failing a whole rule)
    kept_frame: pd.DataFrame
    kept_table: pa.Table
    reduced: pd.DataFrame  # the rule columns of screen.reduced, for GE
    rows_by_year: dict[str, int]


def _years(table: pa.Table) -> dict[str, int]:
    values, counts = np.unique(table.column("trade_year").to_numpy(zero_copy_only=False), return_counts=True)
    return {str(int(y)): int(n) for y, n in zip(values, counts)}


class RowChecker:
    def __init__(self, book: audit_rules.RuleBook, *, as_of: dt.date, rows_for_key: dict[tuple[str, str], int],
                 suite_for: Callable[[list[audit_rules.RowRule]], Any], reread: Callable[[int], pa.Table],
                 flush_rows: int = DEFAULT_FLUSH_ROWS):
        """suite_for(rules) builds a GE suite of those rules (an object with failing_positions);
        reread(number) reads chunk `number` again with every column: check() may be given the
        chunk without the wide provenance columns, which only failing rows need."""
        self.as_of = as_of
        self.rows_for_key = rows_for_key
        self.reread = reread
        self.flush_rows = flush_rows
        screened = [r for r in book.row_rules if audit_screen.screenable(r.expectation, r.kwargs)]
        whole = [r for r in book.row_rules if r not in screened]
        self.specs = [(r.name, r.expectation, r.kwargs) for r in screened]
        self.columns = sorted({r.kwargs["column"] for r in screened})
        self.screened_suite = suite_for(screened) if screened else None
        self.whole_suite = suite_for(whole) if whole else None
        self.ge_seconds = 0.0
        self.chunks_in_full = 0  # chunks GE validated row by row
        self._waiting: list[_Waiting] = []
        self._waiting_rows = 0

    # -- steps ---------------------------------------------------------------------------------

    def _derive(self, table: pa.Table) -> pd.DataFrame:
        return audit_rules.derive(rule_frame(table), as_of=self.as_of, rows_for_key=self.rows_for_key)

    def _ge(self, suite: Any, frame: pd.DataFrame) -> dict[str, list[int]]:
        started = time.monotonic()
        try:
            return suite.failing_positions(frame.reset_index(drop=True))
        finally:
            self.ge_seconds += time.monotonic() - started

    def _rows(self, number: int, table: pa.Table, positions: list[int]) -> pa.Table:
        """The chunk's rows at `positions`, every column (read again if `table` is narrow)."""
        if positions and "raw_line" not in table.column_names:
            table = self.reread(number)
        return table.take(pa.array(positions, pa.int64()))

    def _in_full(self, number: int, table: pa.Table, frame: pd.DataFrame,
                 whole_failing: dict[str, list[int]]) -> CheckedChunk:
        self.chunks_in_full += 1
        failing = dict(whole_failing)
        if self.screened_suite is not None:
            failing.update(self._ge(self.screened_suite, frame))
        positions = sorted({p for ps in failing.values() for p in ps})
        return _checked(number, table.num_rows, failing, positions, frame.iloc[positions],
                        self._rows(number, table, positions), _years(table))

    # -- the interface -------------------------------------------------------------------------

    def check(self, number: int, table: pa.Table) -> list[CheckedChunk]:
        """Check one chunk; returns the chunks whose verdict is final (none, this one, or every
        waiting one when enough rows wait for GE)."""
        frame = self._derive(table)
        whole_failing = self._ge(self.whole_suite, frame) if self.whole_suite is not None else {}
        screen = audit_screen.screen_chunk(self.specs, frame)
        if not screen.complete:
            return [self._in_full(number, table, frame, whole_failing)]
        kept = sorted(set(screen.flagged_positions()) | {p for ps in whole_failing.values() for p in ps})
        self._waiting.append(_Waiting(
            number=number,
            num_rows=table.num_rows,
            screen=screen,
            whole_failing=whole_failing,
            kept=kept,
            kept_frame=frame.iloc[kept],
            kept_table=self._rows(number, table, kept),
            reduced=frame[self.columns].iloc[screen.reduced],
            rows_by_year=_years(table),
        ))
        self._waiting_rows += len(screen.reduced)
        return self.finish() if self._waiting_rows >= self.flush_rows else []

    def finish(self) -> list[CheckedChunk]:
        """GE validates the reduced rows of every waiting chunk in one go; each chunk it agrees
        with is final, any other is re-read and validated in full."""
        waiting, self._waiting, self._waiting_rows = self._waiting, [], 0
        if not waiting:
            return []
        verdicts: list[dict[str, list[int]]] = [{} for _ in waiting]
        if self.screened_suite is not None:
            reduced = pd.concat([w.reduced for w in waiting], ignore_index=True)
            owners = np.repeat(np.arange(len(waiting)), [len(w.reduced) for w in waiting])
            positions = np.concatenate([w.screen.reduced for w in waiting]) if len(waiting) else np.zeros(0)
            for rule, rows in self._ge(self.screened_suite, reduced).items():
                for row in rows:
                    verdicts[owners[row]].setdefault(rule, []).append(int(positions[row]))
        names = [name for name, _, _ in self.specs]
        done = []
        for w, verdict in zip(waiting, verdicts):
            if not audit_screen.agrees(w.screen, verdict, names):
                table = self.reread(w.number)
                done.append(self._in_full(w.number, table, self._derive(table), w.whole_failing))
                continue
            failing = {**w.whole_failing, **{k: v for k, v in verdict.items() if v}}
            positions = sorted({p for ps in failing.values() for p in ps})
            at = {p: i for i, p in enumerate(w.kept)}
            picks = [at[p] for p in positions]
            done.append(_checked(w.number, w.num_rows, failing, positions, w.kept_frame.iloc[picks],
                                 w.kept_table.take(pa.array(picks, pa.int64())), w.rows_by_year))
        return done


def _checked(number: int, num_rows: int, failing: dict[str, list[int]], positions: list[int],
             frame: pd.DataFrame, table: pa.Table, rows_by_year: dict[str, int]) -> CheckedChunk:
    records = frame.to_dict("records")
    # the columns the narrow read left out (raw_line, source_file), for the reasons
    for record, row in zip(records, table.to_pylist()):
        for name, value in row.items():
            record.setdefault(name, value)
    failing = {rule: sorted(ps) for rule, ps in failing.items() if ps}
    return CheckedChunk(number, num_rows, failing, positions, dict(zip(positions, records)), table, rows_by_year)
