"""Redaction at its edges: overlapping keys, bodies that echo an unknown key in a URL, non-text
secrets, and the logging filter on a logger we do not own (urllib3)."""
from __future__ import annotations

import logging

from ingestion.alphavantage.redact import contains_secret, guard_logger, redact_bytes, redact_text, redact_url


def test_a_key_that_contains_another_is_masked_whole():
    # "AZZ" holds "ZZ": masking the shorter first would leave "A***" in the log
    assert redact_text("old key AZZ, new key ZZ", ["ZZ", "AZZ"]) == "old key ***, new key ***"
    assert redact_bytes(b"AZZ", ["ZZ", "AZZ"]) == b"***"


def test_secrets_that_are_not_text_are_ignored():
    assert redact_text("nothing to hide", [None, "", 42]) == "nothing to hide"
    assert not contains_secret("42", [None, 42])


def test_a_stored_body_masks_an_apikey_parameter_whatever_its_value():
    body = b'<a href="https://www.alphavantage.co/query?function=X&apikey=UNKNOWN123&symbol=IBM">'
    assert redact_bytes(body) == b'<a href="https://www.alphavantage.co/query?function=X&apikey=***&symbol=IBM">'


def test_a_url_is_masked_wherever_the_key_appears():
    assert redact_url("https://proxy.example/KEY123/query?apikey=KEY123", ["KEY123"]) == \
        "https://proxy.example/***/query?apikey=***"


def test_contains_secret_reads_text_and_bytes():
    assert contains_secret("body with KEY123 inside", ["KEY123"])
    assert contains_secret(b"body with KEY123 inside", ["KEY123"])
    assert not contains_secret("body without it", ["KEY123"])


def test_a_guarded_loggers_records_still_reach_the_log_with_the_key_masked():
    name = "tests.redact.urllib3-like"
    logger = logging.getLogger(name)
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        guard_logger(name)
        guard_logger(name)  # once is enough: a second call adds no second filter
        assert len(logger.filters) == 1
        logger.debug('"GET /query?function=TIME_SERIES_DAILY&apikey=%s HTTP/1.1" 200', "SECRET9")
        logger.debug("a line without a key")
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
    assert seen == ['"GET /query?function=TIME_SERIES_DAILY&apikey=*** HTTP/1.1" 200', "a line without a key"]
