"""Which segments of a year a run merges and which it carries (glue_jobs/lake/segments.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake.segments import Carry, Merge, Segment, layout, of_key, plan

D = dt.date
V = "warehouse/daily_prices/trade_year=2024/v=r1/"
SETTLED, RECENT = Segment(D(2024, 1, 1), D(2024, 9, 30)), Segment(D(2024, 10, 1), D(2024, 12, 31))
CURRENT = [V + SETTLED.file_name(0), V + RECENT.file_name(0)]


@pytest.mark.parametrize("year, today, segments", [
    (2024, D(2024, 12, 2), [SETTLED, RECENT]),  # 45 days back: 2024-10-18, its month starts the recent part
    (2024, D(2024, 11, 14), [Segment(D(2024, 1, 1), D(2024, 8, 31)), Segment(D(2024, 9, 1), D(2024, 12, 31))]),
    (2024, D(2024, 11, 15), [SETTLED, RECENT]),  # the boundary moves mid-month
    (2023, D(2024, 12, 2), [Segment(D(2023, 1, 1), D(2023, 12, 31))]),  # a past year is settled whole
    (2024, D(2024, 2, 20), [Segment(D(2024, 1, 1), D(2024, 12, 31))]),  # January 1st is no cut
    (2024, D(2025, 1, 20), [Segment(D(2024, 1, 1), D(2024, 11, 30)), Segment(D(2024, 12, 1), D(2024, 12, 31))]),
    (2025, D(2025, 1, 20), [Segment(D(2025, 1, 1), D(2025, 12, 31))]),
])
def test_the_year_splits_at_the_month_45_days_before_the_run(year, today, segments):
    assert layout(year, today) == segments


def test_a_file_name_says_its_segment_and_other_files_have_none():
    assert of_key(V + "seg-20241001-20241231-00003.parquet") == RECENT
    assert of_key(V + "part-00000.parquet") is None
    assert of_key(V + "seg-20241001-20241231-00003.parquet.crc") is None


def test_a_day_of_recent_bars_merges_the_recent_segment_and_carries_the_settled_file():
    steps = plan(2024, D(2024, 12, 2), CURRENT, [D(2024, 12, 2), D(2024, 11, 22), D(2024, 10, 1)])
    assert steps == [Carry(SETTLED, (CURRENT[0],)), Merge(RECENT)]


def test_a_bar_on_the_first_day_of_the_recent_segment_alone_merges_that_segment():
    """A restated bar dated the boundary's day (here 2024-10-01, a session), and no other row of
    the recent segment: carrying that segment as it is would drop the restatement unpublished."""
    steps = plan(2024, D(2024, 12, 2), CURRENT, [D(2024, 10, 1)])
    assert steps == [Carry(SETTLED, (CURRENT[0],)), Merge(RECENT)]


@pytest.mark.parametrize("dates", [[D(2024, 12, 2), D(2024, 9, 30)], None])
def test_a_settled_bar_or_unknown_dates_merge_both(dates):
    assert plan(2024, D(2024, 12, 2), CURRENT, dates) == [Merge(SETTLED), Merge(RECENT)]


def test_nothing_is_carried_from_a_version_cut_elsewhere_or_written_whole():
    assert plan(2024, D(2024, 11, 14), CURRENT, [D(2024, 11, 14)]) == [
        Merge(Segment(D(2024, 1, 1), D(2024, 8, 31))), Merge(Segment(D(2024, 9, 1), D(2024, 12, 31)))]
    assert plan(2024, D(2024, 12, 2), [V + "part-00000.parquet"], [D(2024, 12, 2)]) == [Merge(SETTLED), Merge(RECENT)]
    # one stray whole-year file beside segment files: nothing is carried either
    assert plan(2024, D(2024, 12, 2), CURRENT + [V + "part-00000.parquet"], [D(2024, 12, 2)]) == [
        Merge(SETTLED), Merge(RECENT)]
