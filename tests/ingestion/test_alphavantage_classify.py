from __future__ import annotations

import pytest

from ingestion.alphavantage.classify import classify
from ingestion.source_api import KINDS
from tests.support.recorded import recorded

FIXTURE_KEY = "FIXTUREKEY0123456"

# file, HTTP status, requested datatype, expected kind, retryable
RECORDED = [
    ("data_compact.json", 200, "json", "data", False),
    ("data_closed.json", 200, "json", "data", False),
    ("data_compact.csv", 200, "csv", "data", False),
    ("note_per_minute.json", 200, "csv", "rate_limit", True),
    ("information_burst.json", 200, "csv", "rate_limit", True),
    ("information_daily_cap.json", 200, "csv", "daily_cap", False),
    ("note_daily_cap.json", 200, "json", "daily_cap", False),
    ("information_premium_full.json", 200, "csv", "premium", False),
    ("error_invalid_symbol.json", 200, "csv", "invalid_symbol", False),
    ("error_bad_key.json", 200, "csv", "bad_key", False),
    ("information_demo_key.json", 200, "json", "bad_key", False),
    ("html_502.html", 502, "csv", "server_error", True),
    ("html_502.html", 200, "csv", "html", True),
    ("truncated.json", 200, "json", "truncated", True),
    ("truncated.csv", 200, "csv", "truncated", True),
    ("empty_series.json", 200, "json", "empty_series", False),
    ("empty_series.csv", 200, "csv", "empty_series", False),
]


@pytest.mark.parametrize("name, status, datatype, kind, retryable", RECORDED)
def test_every_recorded_body_gets_its_kind(name, status, datatype, kind, retryable):
    verdict = classify(recorded(name), status, "application/json", datatype)
    assert (verdict.kind, verdict.retryable) == (kind, retryable), verdict.message
    assert verdict.kind in KINDS


def test_every_kind_but_unexpected_has_a_recorded_body():
    # deadline and too_large are the client's verdicts on how a body arrived, not on a body
    assert {row[3] for row in RECORDED} == set(KINDS) - {"unexpected", "deadline", "too_large"}


@pytest.mark.parametrize("name", ["information_daily_cap.json", "note_daily_cap.json"])
def test_a_key_echoed_in_a_limit_message_is_masked_even_when_unknown(name):
    verdict = classify(recorded(name))
    assert FIXTURE_KEY not in verdict.message
    assert "***" in verdict.message


def test_a_known_secret_is_masked_wherever_it_appears():
    body = b'{"Information": "key FIXTUREKEY0123456 was used 25 times per day"}'
    verdict = classify(body, secrets=[FIXTURE_KEY])
    assert verdict.kind == "daily_cap"
    assert FIXTURE_KEY not in verdict.message


def test_throttle_detail_says_which_limit():
    assert "per_minute" in classify(recorded("note_per_minute.json")).detail
    assert "burst" in classify(recorded("information_burst.json")).detail


@pytest.mark.parametrize(
    "body, kind",
    [
        # reworded messages still classify by key and keywords, not by sentence
        (b'{"Information": "Our daily limit for your key has been reached."}', "daily_cap"),
        (b'{"Note": "Please slow down: 3 calls per minute on this plan."}', "rate_limit"),
        (b'{"Note": "Something new we have never seen."}', "rate_limit"),
        (b'{"Information": "This is a premium endpoint."}', "premium"),
        (b'{"Error Message": "Invalid API call for symbol ZZZZ."}', "invalid_symbol"),
        (b'{"Information": "Something new we have never seen."}', "unexpected"),
        (b"{}", "unexpected"),
        (b"[1, 2]", "unexpected"),
        (b"symbol,name,region\r\nIBM,International Business Machines,US\r\n", "unexpected"),
        (b"", "truncated"),
        (b"Service Unavailable", "html"),
        (b"\xef\xbb\xbftimestamp,open,high,low,close,volume\r\n2026-11-20,1,2,0.5,1.5,10\r\n", "data"),
    ],
)
def test_message_kinds_and_odd_bodies(body, kind):
    assert classify(body).kind == kind


def test_http_429_is_a_rate_limit_whatever_the_body():
    verdict = classify(b"", 429)
    assert verdict.kind == "rate_limit" and verdict.retryable


def test_a_csv_without_final_newline_but_whole_rows_is_data():
    body = recorded("data_compact.csv").rstrip(b"\r\n")
    assert classify(body).kind == "data"


def test_an_error_body_is_json_even_when_csv_was_asked_for():
    verdict = classify(recorded("error_invalid_symbol.json"), 200, "application/json", "csv")
    assert verdict.kind == "invalid_symbol"
    assert "Invalid API call" in verdict.message


def test_data_in_another_format_than_asked_is_still_data_and_says_so():
    verdict = classify(recorded("data_compact.json"), 200, "application/json", "csv")
    assert verdict.kind == "data" and verdict.detail == "json (csv was asked for)"
    assert classify(recorded("data_compact.csv"), 200, "text/csv", "csv").detail == "csv"
