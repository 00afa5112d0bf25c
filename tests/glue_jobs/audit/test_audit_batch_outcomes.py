"""The batch rules' records as the run log and stocks.audit_results keep them (every field an
operator reads: how many rows failed, what was observed, the threshold in words, an example or
null), for a healthy batch and one that fails every rule; and the audit's chunks at their bound."""
import pytest

from glue_jobs.audit import rules as audit_rules


@pytest.fixture  # per test: see test_audit_rules.book
def book():
    return audit_rules.load_rules()


def _outcomes(book, **kw):
    return audit_rules.evaluate_batch(book, audit_rules.thresholds(book, {}), **kw)


def test_a_healthy_batch_records_what_it_observed_and_no_example(book):
    assert _outcomes(book, drifted=[], rows_read=100, expected_rows=100, audited_rows=100, quarantined_rows=0) == [
        {"rule": "schema_as_expected", "kind": "batch", "success": True, "failing_rows": 0,
         "threshold": "at most 0 raw bodies with another header", "observed": 0, "example": None},
        {"rule": "row_count_within_bounds", "kind": "batch", "success": True, "failing_rows": 0,
         "threshold": ">= 90 rows (min 1, 90% of 100 expected)", "observed": 100, "example": None},
        {"rule": "quarantine_share_below_threshold", "kind": "batch", "success": True, "failing_rows": 0,
         "threshold": "<= 5.0% of audited and unchanged rows", "observed": 0.0, "example": None},
    ]


def test_a_failing_batch_records_how_far_off_it_is_and_an_example_for_each_rule(book):
    drifted = [{"partition": "raw/daily/p/", "header": "timestamp,open"}, {"partition": "raw/daily/q/", "header": "x"}]
    assert _outcomes(book, drifted=drifted, rows_read=80, expected_rows=100, audited_rows=80,
                     quarantined_rows=6, unchanged_rows=20) == [
        {"rule": "schema_as_expected", "kind": "batch", "success": False, "failing_rows": 2,
         "threshold": "at most 0 raw bodies with another header", "observed": 2,
         "example": "raw/daily/p/ has header 'timestamp,open', expected 'timestamp,open,high,low,close,volume'"},
        {"rule": "row_count_within_bounds", "kind": "batch", "success": False, "failing_rows": 10,
         "threshold": ">= 90 rows (min 1, 90% of 100 expected)", "observed": 80,
         "example": "the raw table read 80 rows; the manifests list 100, so at least 90 were expected"},
        {"rule": "quarantine_share_below_threshold", "kind": "batch", "success": False, "failing_rows": 6,
         "threshold": "<= 5.0% of audited and unchanged rows", "observed": 0.06,
         "example": "6 of 100 rows (6.0%) were quarantined, more than 5.0%"},
    ]


def test_the_row_floor_is_the_larger_of_the_minimum_and_the_share_of_what_the_manifests_list(book):
    limits = audit_rules.thresholds(book, {"audit_min_rows": 50})
    [_, few] = audit_rules.evaluate_batch(book, limits, drifted=[], rows_read=40, expected_rows=10,
                                          audited_rows=40, quarantined_rows=0)[:2]
    assert few["threshold"] == ">= 50 rows (min 50, 90% of 10 expected)" and few["failing_rows"] == 10
    assert not few["success"]


def test_chunks_fill_up_to_exactly_the_row_bound():
    # 60 + 40 rows is exactly the bound: one chunk, not two
    assert audit_rules.plan_chunks([(0, 0, 60), (0, 1, 40), (1, 0, 1)], 100) == [[(0, 0), (0, 1)], [(1, 0)]]
    assert audit_rules.plan_chunks([(0, 0, 1), (0, 1, 1)], 1) == [[(0, 0)], [(0, 1)]]
    assert audit_rules.plan_chunks([(0, 0, 99), (0, 1, 1), (0, 2, 100)], 100) == [[(0, 0), (0, 1)], [(0, 2)]]
    # and so does a chunk started after a full one
    assert audit_rules.plan_chunks([(0, 0, 100), (0, 1, 50), (1, 0, 50)], 100) == [[(0, 0)], [(0, 1), (1, 0)]]
    assert audit_rules.plan_chunks([], 100) == []
    with pytest.raises(ValueError, match="^max_rows must be positive$"):
        audit_rules.plan_chunks([(0, 0, 1)], -5)
