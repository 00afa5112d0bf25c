"""verify's comparison (glue_jobs/serve/compare.py), pure: per-symbol counts and checksums, and
each difference named as missing, extra or different values."""
from __future__ import annotations

from decimal import Decimal

from glue_jobs.ports.serving import Bar
from glue_jobs.serve import compare
from glue_jobs.serve.compare import DIFFERENT, EXTRA, MISSING


def bar(symbol="AAPL", day="2024-06-03", close="185.64", version="20240603T220000Z-aaaaaa", **kw) -> Bar:
    values = dict(open=Decimal("184.1"), high=Decimal("186.0"), low=Decimal("183.5"), close=Decimal(close),
                  volume=1_000_000, ingest_run_id="20240603T215900Z-ingest")
    values.update(kw)
    return Bar(symbol, day, version=version, **values)


def test_equal_sides_in_any_order_have_equal_summaries_and_no_mismatch():
    rows = [bar(day=f"2024-06-{d:02d}") for d in range(3, 8)] + [bar("IBM")]
    pub = compare.summarize(rows)
    srv = compare.summarize(reversed(rows))
    assert compare.mismatched_symbols(pub, srv) == []
    assert pub["AAPL"].rows == 5 and pub["AAPL"].checksum == srv["AAPL"].checksum


def test_a_price_written_in_another_decimal_form_is_the_same_price():
    # DynamoDB hands numbers back normalized: 185.60 comes back as 185.6; that is no difference.
    pub = [bar(close="185.60", high=Decimal("186.00"), volume=100)]
    srv = [bar(close="185.6", high=Decimal("1.86E+2"), volume=100)]
    assert compare.mismatched_symbols(compare.summarize(pub), compare.summarize(srv)) == []
    assert compare.diff_rows(pub, srv) == []


def test_the_version_alone_is_not_a_difference():
    # A rollback republishes the same rows under a newer version: readers see the same bars.
    pub = [bar(version="20240601T000000Z-aaaaaa")]
    srv = [bar(version="20240605T000000Z-bbbbbb")]
    assert compare.mismatched_symbols(compare.summarize(pub), compare.summarize(srv)) == []


def test_each_difference_is_named_missing_extra_or_different_with_the_fields():
    pub = [bar(day="2024-06-03"), bar(day="2024-06-04"), bar(day="2024-06-05", close="190.5")]
    srv = [bar(day="2024-06-03"), bar(day="2024-06-05", close="190.25", ingest_run_id="other"),
           bar(day="2024-06-06")]
    diffs = compare.diff_rows(pub, srv)
    assert [(d.kind, d.trade_date) for d in diffs] == [
        (MISSING, "2024-06-04"), (DIFFERENT, "2024-06-05"), (EXTRA, "2024-06-06")]
    assert diffs[1].fields == (("close", "190.5", "190.25"), ("ingest_run_id", "20240603T215900Z-ingest", "other"))
    assert "close published 190.5 serving 190.25" in diffs[1].describe()


def test_a_changed_value_changes_the_checksum_with_the_same_count():
    pub = compare.summarize([bar(day="2024-06-03"), bar(day="2024-06-04")])
    srv = compare.summarize([bar(day="2024-06-03"), bar(day="2024-06-04", volume=999)])
    assert pub["AAPL"].rows == srv["AAPL"].rows
    assert compare.mismatched_symbols(pub, srv) == ["AAPL"]


def test_a_symbol_on_one_side_only_is_a_mismatch():
    pub = compare.summarize([bar("AAPL"), bar("IBM")])
    srv = compare.summarize([bar("AAPL"), bar("ZZZ")])
    assert compare.mismatched_symbols(pub, srv) == ["IBM", "ZZZ"]


def test_to_write_leaves_equal_rows_alone_so_a_second_rebuild_writes_nothing():
    pub = [bar(day="2024-06-03"), bar(day="2024-06-04", close="1.5")]
    srv = [bar(day="2024-06-03"), bar(day="2024-06-04", close="1.25"), bar(day="2024-06-09")]
    writes, extras = compare.to_write(pub, srv)
    assert [w.trade_date for w in writes] == ["2024-06-04"] and extras == [("AAPL", "2024-06-09")]
    assert compare.to_write(pub, pub) == ([], [])


def test_report_counts_rows_and_kinds():
    pub = compare.summarize([bar(day="2024-06-03"), bar(day="2024-06-04")])
    srv = compare.summarize([bar(day="2024-06-03")])
    diffs = compare.diff_rows([bar(day="2024-06-03"), bar(day="2024-06-04")], [bar(day="2024-06-03")])
    report = compare.report(pub, srv, diffs)
    assert (report.rows_published, report.rows_serving, report.counts) == (2, 1, {MISSING: 1})
    assert not report.equal and report.mismatched == ["AAPL"]


def test_lag_counts_published_versions_newer_than_the_serving_tables_newest():
    versions = ["20241118T220000Z-aaaaaa", "20241119T220000Z-bbbbbb", "20241120T230000Z-cccccc"]
    lag = compare.lag(versions, "20241118T220000Z-aaaaaa")
    assert (lag.versions_behind, lag.newest_published, lag.seconds_behind) == (2, versions[-1], 2 * 86400 + 3600)
    assert "behind by 2 published versions, 2 days" in lag.describe()
    assert compare.lag(versions, versions[-1]).caught_up
    # A rebuild writes under its own, newer run id: that is caught up, not ahead-by-something.
    assert compare.lag(versions, "20241121T000000Z-rebuil").caught_up
    assert compare.lag(versions, None).versions_behind == 3
    assert compare.lag([], None).describe() == "nothing published yet"


def test_version_time_reads_run_ids_only():
    assert compare.version_time("20241120T230000Z-cccccc") == "2024-11-20T23:00:00Z"
    assert compare.version_time("v1") is None
