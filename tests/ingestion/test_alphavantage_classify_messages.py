"""What the user reads about each kind of answer: the classification's message (stored next to
a rejected body and listed in the run's problems) and its detail (what the run log counts),
not only its kind."""
from __future__ import annotations

import json

import pytest

from ingestion.alphavantage.classify import classify

SERIES = "Time Series (Daily)"
BAR = {"1. open": "1", "2. high": "1", "3. low": "1", "4. close": "1", "5. volume": "1"}
HEADER = b"timestamp,open,high,low,close,volume\n"


def js(doc) -> bytes:
    return json.dumps(doc).encode()


CASES = [
    # (body, status, content type, requested datatype) -> (kind, message, detail)
    ((b"{}", 503, "", "csv"), ("server_error", "HTTP 503 from the server", "http 503")),
    ((b"{}", 429, "", "csv"), ("rate_limit", "HTTP 429 Too Many Requests", "http 429")),
    ((b" \r\n", 200, "", "csv"), ("truncated", "empty body (HTTP 200)", "empty body")),
    ((b"<html><head><title> Bad Gateway </title></head>", 200, "", "csv"),
     ("html", "HTML page instead of data (HTTP 200): Bad Gateway", "html")),
    ((b"<html><body>down</body>", 200, "", "csv"), ("html", "HTML page instead of data (HTTP 200): no title", "html")),
    ((b"garbage \xff", 200, "", "csv"), ("html", "neither JSON nor CSV (no content type): 'garbage \ufffd'", "other")),
    ((b"garbage", 200, "text/plain", "csv"), ("html", "neither JSON nor CSV (text/plain): 'garbage'", "other")),
    ((b"[1, 2]", 200, "", "json"), ("unexpected", "JSON body is a list, not an object", "json")),
    ((b'{"a": 1, "b": 2}', 200, "", "json"),
     ("unexpected", "JSON body without 'Time Series (Daily)' or a message (keys: a, b)", "json")),
    ((b"{}", 200, "", "json"), ("unexpected", "JSON body without 'Time Series (Daily)' or a message (keys: none)", "json")),
    ((js({SERIES: {}}), 200, "", "json"), ("empty_series", "'Time Series (Daily)' holds no bar", "json")),
    ((js({SERIES: {"2026-11-20": BAR, "2026-11-19": BAR}}), 200, "", "json"), ("data", "2 bars", "json")),
    ((js({SERIES: {"2026-11-20": BAR}}), 200, "", "csv"), ("data", "1 bars", "json (csv was asked for)")),
    ((js({SERIES: {"2026-11-20": BAR}}), 200, "", None), ("data", "1 bars", "json")),
    ((js({"Error Message": "Invalid API call. Please retry or visit the documentation"}), 200, "", "json"),
     ("invalid_symbol", "Error Message: Invalid API call. Please retry or visit the documentation", "Error Message")),
    ((js({"Error Message": "the parameter apikey is invalid or missing"}), 200, "", "json"),
     ("bad_key", "Error Message: the parameter apikey is invalid or missing", "Error Message")),
    ((js({"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute"}),
      200, "", "json"),
     ("rate_limit", "Note: Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute",
      "Note per_minute")),
    ((js({"Information": "Please consider spreading out your free API requests more sparingly (1 request per second)."}),
      200, "", "json"),
     ("rate_limit", "Information: Please consider spreading out your free API requests more sparingly "
                    "(1 request per second).", "Information burst")),
    ((js({"Note": "something new"}), 200, "", "json"), ("rate_limit", "Note: something new", "Note per_minute")),
    ((js({"Information": "something new"}), 200, "", "json"),
     ("unexpected", "Information: something new", "Information")),
    ((js({"Information": "This is a premium endpoint."}), 200, "", "json"),
     ("premium", "Information: This is a premium endpoint.", "Information")),
    ((js({"Information": "You have reached the daily quota."}), 200, "", "json"),
     ("daily_cap", "Information: You have reached the daily quota.", "Information")),
    ((js({"Information": "The demo key is for demo purposes only."}), 200, "", "json"),
     ("bad_key", "Information: The demo key is for demo purposes only.", "Information")),
    ((b"date,price\n2026-11-20,1\n", 200, "", "csv"),
     ("unexpected", "CSV header 'date,price' is not 'timestamp,open,high,low,close,volume'", "csv header")),
    ((HEADER + b"\n", 200, "", "csv"), ("empty_series", "CSV with a header and no row", "csv")),
    ((HEADER + b"2026-11-20,1,1,1,1,1\n2026-11-19,1,1", 200, "", "csv"),
     ("truncated", "CSV cut mid-row after 1 complete rows", "csv")),
    ((HEADER + b"2026-11-20,1,1,1,1,1\n2026-11-19,1,1,1,1,1\n", 200, "", "csv"), ("data", "2 rows", "csv")),
    ((HEADER + b"2026-11-20,1,1,1,1,1\n", 200, "", "json"), ("data", "1 rows", "csv (json was asked for)")),
]


@pytest.mark.parametrize("given, expected", CASES, ids=[f"{e[0]}-{i}" for i, (_, e) in enumerate(CASES)])
def test_each_answer_gets_the_message_and_detail_a_user_reads(given, expected):
    body, status, content_type, requested = given
    verdict = classify(body, status, content_type, requested)
    assert (verdict.kind, verdict.message, verdict.detail) == expected


def test_without_a_status_the_answer_is_taken_as_http_200():
    assert classify(b"").message == "empty body (HTTP 200)"
    assert classify(HEADER + b"2026-11-20,1,1,1,1,1\n").detail == "csv"  # csv is what is asked by default


def test_a_broken_json_body_says_where_it_broke_and_its_size():
    verdict = classify(b'{"Time Series (Daily)": {', 200, "", "json")
    assert verdict.kind == "truncated" and verdict.retryable
    assert verdict.message.startswith("JSON body does not parse (") and verdict.message.endswith("; 25 bytes")


def test_a_long_message_is_cut_at_500_characters_after_masking_the_key():
    verdict = classify(js({"Information": "x" * 600 + " KEY123"}), 200, "", "json", secrets=["KEY123"])
    assert len(verdict.message) == 500 and verdict.message.startswith("Information: xxx")
    echo = classify(js({"Information": "limit is 25 requests per day for KEY123"}), 200, "", "json", secrets=["KEY123"])
    assert echo.kind == "daily_cap" and echo.message == "Information: limit is 25 requests per day for ***"


@pytest.mark.parametrize("doc, kind", [
    ({"Error Message": "the parameter apikey KEY123 is invalid"}, "bad_key"),
    ({"Error Message": "Invalid API call for KEY123"}, "invalid_symbol"),
    ({"Information": "limit is 25 requests per day for KEY123"}, "daily_cap"),
    ({"Note": "KEY123: our standard API call frequency is 5 calls per minute"}, "rate_limit"),
    ({"Information": "KEY123: this is a premium endpoint"}, "premium"),
    ({"Information": "the key KEY123 looks like a demo key"}, "bad_key"),
    ({"Note": "KEY123 something new"}, "rate_limit"),
    ({"Information": "KEY123 something new"}, "unexpected"),
])
def test_every_message_family_masks_a_key_it_echoes(doc, kind):
    verdict = classify(js(doc), 200, "", "json", secrets=["KEY123"])
    assert verdict.kind == kind and "KEY123" not in verdict.message and "***" in verdict.message
    assert verdict.detail == next(iter(doc)) or verdict.detail.startswith(next(iter(doc)) + " ")


def test_a_body_that_is_neither_json_nor_csv_shows_its_start_masked():
    verdict = classify(b"oops KEY123 went wrong", 200, "text/plain", "csv", secrets=["KEY123"])
    assert verdict.message == "neither JSON nor CSV (text/plain): 'oops *** went wrong'"
    assert classify(b"oops").message == "neither JSON nor CSV (no content type): 'oops'"


def test_a_broken_json_body_is_counted_as_json():
    assert classify(b'{"a": ', 200, "", "json").detail == "json"


def test_500_itself_is_a_server_error():
    assert classify(b"{}", 500).kind == "server_error" and classify(b"{}", 499).kind != "server_error"


@pytest.mark.parametrize("body", [b"<?xml version='1.0'?><error/>", b"oops <HTML><body>down",
                                  b"<!DOCTYPE html>\n<TITLE>Bad\nGateway</TITLE>"])
def test_markup_is_html_however_it_starts_or_is_cased(body):
    verdict = classify(body, 200, "", "csv")
    # counted and described as a markup page, not as a body of unknown shape
    assert (verdict.kind, verdict.detail) == ("html", "html")
    assert verdict.message.startswith("HTML page instead of data (HTTP 200): ")


def test_an_html_title_in_capitals_over_two_lines_is_shown():
    verdict = classify(b"<html><TITLE>Bad\nGateway</TITLE></html>", 502, "", "csv")
    assert verdict.kind == "server_error"
    assert classify(b"<html><TITLE>Bad\nGateway</TITLE></html>", 200, "", "csv").message == \
        "HTML page instead of data (HTTP 200): Bad\nGateway"


@pytest.mark.parametrize("body, start", [
    # the HTML page's title, the JSON body's keys and the CSV header are the body's own text
    (b"<html><title>Key KEY123 refused</title></html>", "HTML page instead of data (HTTP 200): Key *** refused"),
    (b'{"KEY123": "?"}', "JSON body without 'Time Series (Daily)' or a message (keys: ***)"),
    (b"apikey,KEY123\n1,2\n", "CSV header 'apikey,***' is not "),
], ids=["html title", "json keys", "csv header"])
def test_text_the_body_echoes_is_masked_in_every_message_that_quotes_it(body, start):
    verdict = classify(body, 200, "", "csv", secrets=["KEY123"])
    assert verdict.message.startswith(start) and "KEY123" not in verdict.message, verdict.message


def test_bytes_that_are_not_utf8_are_shown_replaced_not_raised():
    page = classify(b"<html><title>Bad \xff Gateway</title></html>", 200, "", "csv")
    assert page.message == "HTML page instead of data (HTTP 200): Bad \ufffd Gateway"
    header = classify(b"date,pr\xffce\n2026-11-20,1\n", 200, "", "csv")
    assert (header.kind, header.message) == (
        "unexpected", "CSV header 'date,pr\ufffdce' is not 'timestamp,open,high,low,close,volume'")


def test_a_csv_with_spaces_around_its_header_cells_is_data():
    body = b"timestamp , open , high , low , close , volume\n2026-11-20,1,2,0.5,1.5,10\n"
    assert (classify(body).kind, classify(body).message) == ("data", "1 rows")


def test_a_short_last_row_after_a_final_newline_is_not_a_cut_body():
    # the body arrived whole (it ends its last line): retrying fetches the same; the audit judges the row
    verdict = classify(HEADER + b"2026-11-20,1,1,1,1,1\n2026-11-19,1,1\n", 200, "", "csv")
    assert (verdict.kind, verdict.retryable, verdict.message) == ("data", False, "2 rows")


@pytest.mark.parametrize("body, snippet", [
    # a plain-text error page is retried like any page, even when a later line has a comma
    (b"Service Unavailable\nplease retry in a minute, or two\n", "Service Unavailable\\nplease retry in a minute, or two\\n"),
    # JSON behind a stray prefix is not a CSV with a wrong header
    (b'cb({"Note": "5 calls per minute, sorry"})', 'cb({"Note": "5 calls per minute, sorry"})'),
    (b"XYZ says no", "XYZ says no"),  # shown from its first byte
], ids=["text page", "json behind a prefix", "first byte"])
def test_a_body_neither_json_nor_csv_is_retried_and_shows_its_start(body, snippet):
    verdict = classify(body, 200, "text/plain", "csv")
    assert (verdict.kind, verdict.retryable, verdict.detail) == ("html", True, "other")
    assert verdict.message == f"neither JSON nor CSV (text/plain): '{snippet}'"
