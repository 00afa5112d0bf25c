"""The serving table's bench rows: each target judged from the figures (made up here)."""
from __future__ import annotations

import pytest

from workflows.bench import report
from workflows.bench.serving_report import serving_rows


def figures(**over):
    s = {"rebuild_rows": 1_000_000, "rebuild_seconds": 4.0, "rebuild_written": 1_000_000,
         "day_bars": 5000, "day_written": 5000, "day_seconds": 0.4,
         "get_median_ms": 1.2, "get_worst_ms": 9.0, "get_bars_median": 252, "get_samples": 200,
         "wru_per_bar": 1.0, "wru_price_per_million": 0.625, "day_wru": 5000, "backfill_wru": 25_000_000}
    return {"serving": dict(s, **over)}


def verdicts(m):
    return [r.verdict for r in serving_rows(m)]


def test_figures_that_meet_the_targets_pass_and_the_aws_cost_is_shown():
    rows = serving_rows(figures())
    assert [r.verdict for r in rows] == [report.PASS, report.PASS, report.PASS, report.INFO]
    assert rows[1].value.startswith("250,000 rows/s")
    assert rows[3].value == "5,000 WRU ($0.00) / 25,000,000 WRU ($15.62)"


@pytest.mark.parametrize(("over", "failed"), [
    ({"day_seconds": 1.2}, 0),
    ({"rebuild_seconds": 5.5}, 1),
    ({"get_median_ms": 5.0}, 2),
])
def test_a_missed_target_fails_alone(over, failed):
    judged = verdicts(figures(**over))
    assert [i for i, v in enumerate(judged) if v == report.FAIL] == [failed]


def test_figures_not_measured_fail():
    assert verdicts({}) == [report.FAIL]
