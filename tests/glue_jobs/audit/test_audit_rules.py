"""The audit's rules: each row rule's failing example through the Great Expectations suite
built from sql/wap/audit/daily_prices.yml, the reasons people read, and the batch verdicts."""
import datetime as dt

import pandas as pd
import pytest

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit.stage import Suite
from glue_jobs.lake.errors import ConfigError

AS_OF = dt.date(2024, 3, 8)
GOOD = dict(symbol="AAA", trade_date="2024-03-07", open=10.0, high=11.0, low=9.5, close=10.5, volume=1000,
            parse_error=None, forming_day=None, fetched_at=pd.Timestamp("2024-03-08 21:30"))


def _row(**changes):
    row = dict(GOOD, **changes)
    row["trade_day"] = row.pop("trade_date")
    values = [row["trade_day"] or "", row["open"], row["high"], row["low"], row["close"], row["volume"]]
    row.setdefault("raw_line", ",".join("" if v is None else str(v) for v in values))
    return row


# rule -> (a row failing it, words its reason must contain)
FAILING = {
    "parse_ok": (_row(open=None, parse_error="open 'NaN' is not a number"), ["AAA 2024-03-07", "open 'NaN'"]),
    "prices_positive": (_row(low=-1.0, open=-1.0), ["AAA 2024-03-07", "not above zero", "low -1"]),
    "volume_not_negative": (_row(volume=-5), ["volume -5 is negative"]),
    "high_is_highest": (_row(high=10.2), ["high 10.2 is below max(open 10, close 10.5)"]),
    "low_is_lowest": (_row(low=10.1), ["low 10.1 is above min(open 10, close 10.5)"]),
    "one_row_per_symbol_and_date": (_row(trade_date="2024-03-06"), ["2 different rows", "2024-03-06"]),
    "trade_date_is_session": (_row(trade_date="2024-03-02"), ["2024-03-02 (Saturday) is not an NYSE session"]),
    "not_after_as_of": (_row(trade_date="2024-03-11"), ["2024-03-11 is after the run's as-of date 2024-03-08"]),
    "bar_complete": (_row(trade_date="2024-03-08", forming_day="2024-03-08"), ["bar still forming at fetch time"]),
    "no_unexplained_jump": (_row(jump_factor=100.0, prev_day="2024-03-06", prev_close=0.105),
                            ["AAA 2024-03-07: close 10.5 is 100 times off the close 0.105 of 2024-03-06"]),
}


@pytest.fixture
def book():
    # read per test, not per module: mutmut credits a module fixture's reads to the first test
    # only, so the threshold tests would never run against a mutated parse_rules
    return audit_rules.load_rules()


@pytest.fixture(scope="module")
def suite():
    return Suite(audit_rules.load_rules())


def _audit(suite, book, rows, duplicated=None):
    frame = audit_rules.derive(pd.DataFrame(rows), as_of=AS_OF, rows_for_key=duplicated or {})
    failing = suite.failing_positions(frame)
    labels = audit_rules.quarantine_labels(failing, dict(enumerate(frame.to_dict("records"))), book, AS_OF)
    return failing, labels


def test_the_rule_book_declares_every_rule_the_design_asks_for(book):
    assert [r.name for r in book.row_rules] == list(FAILING)
    assert [r.name for r in book.batch_rules] == [
        "schema_as_expected", "row_count_within_bounds", "quarantine_share_below_threshold"]
    assert [r.name for r in book.warning_rules] == ["series_not_stale", "every_session_present"]
    assert book.raw_header == ("timestamp", "open", "high", "low", "close", "volume")


def test_a_good_row_passes_every_rule(suite, book):
    failing, labels = _audit(suite, book, [_row()])
    assert failing == {} and labels == {}


@pytest.mark.parametrize("rule", list(FAILING))
def test_each_row_rule_catches_its_failing_example_and_says_why(suite, book, rule):
    bad, words = FAILING[rule]
    rows = [_row(), bad]
    duplicated = {}
    if rule == "one_row_per_symbol_and_date":
        rows.append(_row(trade_date="2024-03-06", close=10.7))  # same fetch, disagreeing close
        duplicated = {("AAA", "2024-03-06"): 2}
    failing, labels = _audit(suite, book, rows, duplicated)
    assert set(failing) == {rule}
    expected_positions = [1, 2] if rule == "one_row_per_symbol_and_date" else [1]
    assert failing[rule] == expected_positions
    rules, reason = labels[1]
    assert rules == rule
    for word in words:
        assert word in reason


def test_a_row_failing_several_rules_is_quarantined_once_with_every_reason(suite, book):
    bad = _row(trade_date="2024-03-09", volume=-1, high=9.0)  # a Saturday, negative volume, high too low
    failing, labels = _audit(suite, book, [_row(), bad])
    assert list(labels) == [1]
    rules, reason = labels[1]
    assert rules == "volume_not_negative,high_is_highest,trade_date_is_session,not_after_as_of"
    assert reason.count("AAA 2024-03-09") == 4


def test_a_field_that_did_not_parse_fails_parse_ok_only(suite, book):
    bad = _row(trade_date=None, raw_line="2024-13-45,10,11,9.5,10.5,1000",
               parse_error="timestamp '2024-13-45' is not a date (YYYY-MM-DD)")
    failing, labels = _audit(suite, book, [bad])
    assert set(failing) == {"parse_ok"}
    assert labels[0][1] == "AAA 2024-13-45: timestamp '2024-13-45' is not a date (YYYY-MM-DD)"


def test_thresholds_come_from_the_book_and_settings_override_them(book):
    default = audit_rules.thresholds(book, {})
    assert default["quarantine_share_below_threshold"]["max_share"] == 0.05
    assert audit_rules.thresholds(book, {"audit_max_quarantine_share": "0.2"})[
        "quarantine_share_below_threshold"]["max_share"] == 0.2
    with pytest.raises(ConfigError, match="audit_max_quarantine_share='lots' is not a number"):
        audit_rules.thresholds(book, {"audit_max_quarantine_share": "lots"})
    with pytest.raises(ConfigError, match="audit_min_rows=-1 is out of range: expected a whole number, 0 or more"):
        audit_rules.thresholds(book, {"audit_min_rows": -1})
    with pytest.raises(ConfigError, match=r"expected a share in \[0, 1\]"):
        audit_rules.thresholds(book, {"audit_max_quarantine_share": "5"})


def _batch(book, **kw):
    args = dict(drifted=[], rows_read=100, expected_rows=100, audited_rows=100, quarantined_rows=0)
    args.update(kw)
    return {o["rule"]: o for o in audit_rules.evaluate_batch(book, audit_rules.thresholds(book, {}), **args)}


def test_batch_rules_pass_on_a_healthy_batch(book):
    assert all(o["success"] and o["kind"] == "batch" for o in _batch(book).values())


def test_schema_drift_fails_the_schema_rule_naming_the_body(book):
    out = _batch(book, drifted=[{"partition": "raw/daily/x/", "header": "timestamp,open,adjusted_close"}])
    assert not out["schema_as_expected"]["success"]
    assert "raw/daily/x/ has header 'timestamp,open,adjusted_close'" in out["schema_as_expected"]["example"]


def test_row_count_rule_needs_rows_and_most_of_what_the_manifests_promise(book):
    assert not _batch(book, rows_read=0, expected_rows=10)["row_count_within_bounds"]["success"]
    # ingest runs that fetched nothing (every answer rejected) list no rows: nothing to miss, and
    # blocking would keep them pending, blocking every later run too
    assert _batch(book, rows_read=0, expected_rows=0)["row_count_within_bounds"]["success"]
    short = _batch(book, rows_read=80, expected_rows=100)["row_count_within_bounds"]
    assert not short["success"] and "at least 90 were expected" in short["example"]
    assert _batch(book, rows_read=90, expected_rows=100)["row_count_within_bounds"]["success"]


def test_quarantine_share_rule_blocks_above_its_threshold(book):
    assert _batch(book, quarantined_rows=5)["quarantine_share_below_threshold"]["success"]
    over = _batch(book, quarantined_rows=6)["quarantine_share_below_threshold"]
    assert not over["success"] and over["observed"] == 0.06 and "6 of 100 rows (6.0%)" in over["example"]


def test_quarantine_share_counts_unchanged_rows_as_received_good_rows(book):
    # a re-fetch of 99 published bars and one bad new bar: 1 of 100, not 1 of 1
    share = _batch(book, audited_rows=1, quarantined_rows=1, unchanged_rows=99)["quarantine_share_below_threshold"]
    assert share["success"] and share["observed"] == 0.01
    # a day whose new bars are mostly bad still blocks
    assert not _batch(book, audited_rows=10, quarantined_rows=9, unchanged_rows=90)[
        "quarantine_share_below_threshold"]["success"]


def test_chunks_stay_under_the_row_bound():
    groups = [(0, 0, 40), (0, 1, 40), (1, 0, 30), (1, 1, 200), (1, 2, 10)]
    assert audit_rules.plan_chunks(groups, 100) == [[(0, 0), (0, 1)], [(1, 0)], [(1, 1)], [(1, 2)]]
    with pytest.raises(ValueError, match="max_rows must be positive"):
        audit_rules.plan_chunks(groups, 0)


def test_a_malformed_rule_book_is_a_config_error():
    with pytest.raises(ConfigError, match="incomplete or malformed"):
        audit_rules.parse_rules("model: x\nraw_header: [a]\nrow_rules:\n  - name: r\n")


def test_a_rule_book_may_leave_out_sections_descriptions_and_a_threshold_kind():
    # a book with only a batch rule: no row or warning rules, no description, no kind (any number)
    book = audit_rules.parse_rules(
        "model: m\nraw_header: [a, b]\nbatch_rules:\n"
        "  - name: quarantine_share_below_threshold\n"
        "    thresholds: {max_share: {default: 0.5, setting: audit_max_quarantine_share}}\n")
    assert book.row_rules == () and book.warning_rules == () and book.raw_header == ("a", "b")
    assert audit_rules.thresholds(book, {"audit_max_quarantine_share": "7"}) == {
        "quarantine_share_below_threshold": {"max_share": 7.0}}
    assert audit_rules.thresholds(book, {}) == {"quarantine_share_below_threshold": {"max_share": 0.5}}
    with pytest.raises(ConfigError, match="audit_max_quarantine_share=-1 is out of range: expected a number, 0 or more"):
        audit_rules.thresholds(book, {"audit_max_quarantine_share": -1})


def test_a_threshold_of_an_unknown_kind_names_the_rule_the_kind_and_the_kinds_there_are():
    with pytest.raises(ConfigError) as bad:
        audit_rules.parse_rules("model: m\nraw_header: [a]\nbatch_rules:\n  - name: r\n"
                                "    thresholds: {x: {default: 1, kind: percent}}\n", origin="book.yml")
    assert str(bad.value) == ("book.yml: a rule is incomplete or malformed (ValueError(\"r: threshold kind "
                              "'percent' is not one of share, count, number\"))")


def test_rule_names_must_be_unique_across_the_sections():
    with pytest.raises(ConfigError, match=r"book.yml: rule names must be unique, got \['r', 'r'\]"):
        audit_rules.parse_rules("model: m\nraw_header: [a]\nbatch_rules:\n  - name: r\nwarning_rules:\n  - name: r\n",
                                origin="book.yml")


def test_a_run_that_received_no_rows_has_a_quarantine_share_of_zero(book):
    [_, _, share] = audit_rules.evaluate_batch(book, audit_rules.thresholds(book, {}), drifted=[], rows_read=0,
                                               expected_rows=0, audited_rows=0, quarantined_rows=0)
    assert share["success"] and share["observed"] == 0.0 and share["example"] is None


def test_rows_for_key_counts_each_rows_symbol_and_day_over_the_batch():
    # the derived column the book's rules and reasons read (daily_prices.yml): 1 for a key seen
    # once, whichever of the chunk's days it falls on (the first one too), the batch's count for a
    # duplicated key, null for a row without a day; a day of the duplicated symbol that is not
    # duplicated is a key seen once (1, not null: null would read as a missing input)
    rows = [_row(trade_date="2024-03-06"), _row(trade_date="2024-03-07"), _row(symbol="BBB", trade_date="2024-03-06"),
            _row(trade_date=None), _row(symbol="BBB", trade_date=None), _row(symbol="BBB", trade_date="2024-03-07")]
    frame = audit_rules.derive(pd.DataFrame(rows), as_of=AS_OF, rows_for_key={("BBB", "2024-03-06"): 3})
    counts = frame["rows_for_key"].tolist()
    assert counts[:3] == [1.0, 1.0, 3.0]
    assert pd.isna(counts[3]) and pd.isna(counts[4])  # the duplicated symbol's day-less row too
    assert counts[5] == 1.0
