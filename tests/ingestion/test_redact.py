from __future__ import annotations

import logging

import pytest

from ingestion.alphavantage.api_key import ApiKey
from ingestion.alphavantage.redact import (
    RedactingFilter,
    contains_secret,
    redact_bytes,
    redact_text,
    redact_url,
)

KEY = "ZQ7K2M9P4X1B"


@pytest.mark.parametrize(
    "text",
    [
        f"https://www.alphavantage.co/query?function=TIME_SERIES_DAILY&symbol=IBM&apikey={KEY}",
        f"https://host/query?apikey={KEY}&symbol=IBM",
        f"GET /query?symbol=IBM&APIKEY={KEY} HTTP/1.1",
        f"We have detected your API key as {KEY} and our standard API rate limit is 25 requests per day.",
        f"We have detected your API key as {KEY}. Please subscribe.",
        f"ConnectionError: HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: /query?apikey={KEY}",
    ],
)
def test_key_is_removed_even_when_its_value_is_unknown(text):
    cleaned = redact_text(text)
    assert KEY not in cleaned
    assert "***" in cleaned


def test_known_secrets_are_removed_anywhere():
    assert redact_text(f"prefix {KEY}suffix", [KEY]) == "prefix ***suffix"
    assert redact_text(f"the key {KEY}", [ApiKey(KEY)]) == "the key ***"


def test_other_text_is_left_alone():
    text = "symbol=IBM&outputsize=compact&datatype=csv"
    assert redact_text(text, [KEY]) == text
    assert redact_url("https://www.alphavantage.co/query?symbol=IBM") == "https://www.alphavantage.co/query?symbol=IBM"


def test_bytes_are_redacted_like_text():
    body = b'{"Information": "We have detected your API key as ' + KEY.encode() + b' and ..."}'
    assert KEY.encode() not in redact_bytes(body)
    assert redact_bytes(b"plain body") == b"plain body"
    assert contains_secret(body, [KEY]) and not contains_secret(redact_bytes(body), [KEY])


def test_logging_filter_masks_urls_in_records():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                               '%s "GET %s HTTP/1.1" 200', ("https://h:443", f"/query?apikey={KEY}"), None)
    RedactingFilter().filter(record)
    assert KEY not in record.getMessage()
