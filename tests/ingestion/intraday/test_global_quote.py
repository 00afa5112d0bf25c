"""GLOBAL_QUOTE bodies, recorded and made up, read by the pure parser: a quote's exact values,
or its rejection with a reason; limit and error bodies sorted as the daily series sorts them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ingestion.alphavantage.quote import BAD_VALUE, STALE, parse_quote
from ingestion.source_api import (
    BAD_KEY,
    DAILY_CAP,
    EMPTY_SERIES,
    HTML,
    INVALID_SYMBOL,
    RATE_LIMIT,
    UNEXPECTED,
)
from tests.support.recorded import recorded

DAY = dt.date(2026, 11, 20)


def test_a_quote_is_read_with_exact_prices_and_the_percent_sign_dropped():
    answer = parse_quote(recorded("global_quote/ibm.json"), symbol="IBM", session_day=DAY)
    q = answer.fields
    assert answer.ok and answer.problem is None
    assert (q.symbol, q.price, q.open, q.high, q.low, q.volume, q.previous_close, q.change, q.change_percent,
            q.latest_trading_day) == ("IBM", Decimal("228.9300"), Decimal("227.1000"), Decimal("229.8800"),
                                      Decimal("226.5100"), 3512248, Decimal("226.4000"), Decimal("2.5300"),
                                      Decimal("1.1175"), "2026-11-20")


@pytest.mark.parametrize("name, kind, says", [
    ("note_per_minute.json", RATE_LIMIT, "Note"),
    ("information_burst.json", RATE_LIMIT, "Information"),
    ("information_daily_cap.json", DAILY_CAP, "Information"),
    ("note_daily_cap.json", DAILY_CAP, "Note"),
    ("error_bad_key.json", BAD_KEY, "Error Message"),
    ("error_invalid_symbol.json", INVALID_SYMBOL, "Error Message"),
    ("html_502.html", HTML, "HTML"),
    ("truncated.json", "truncated", "JSON"),
    ("global_quote/unknown_symbol.json", INVALID_SYMBOL, "no such symbol"),
    ("global_quote/negative_price.json", BAD_VALUE, "price -1.0000 is not a positive price"),
    ("global_quote/missing_fields.json", UNEXPECTED, "lacks '02. open'"),
])
def test_limit_error_and_bad_bodies_are_rejected_with_their_reason(name, kind, says):
    answer = parse_quote(recorded(name), symbol="IBM", session_day=DAY)
    assert not answer.ok and answer.fields is None
    assert answer.problem.kind == kind and says in answer.problem.message


def test_a_key_echoed_by_a_daily_cap_body_never_reaches_the_reason():
    key = "ABCDEFGH12345678"
    body = (f'{{"Information": "We have detected your API key as {key} and our standard API rate limit is '
            '25 requests per day."}').encode()
    answer = parse_quote(body, symbol="IBM", session_day=DAY, secrets=[key])
    assert answer.problem.kind == DAILY_CAP and key not in answer.problem.message


def test_a_quote_of_another_day_is_stale():
    answer = parse_quote(recorded("global_quote/ibm.json"), symbol="IBM", session_day=dt.date(2026, 11, 23))
    assert answer.problem.kind == STALE
    assert "latest trading day 2026-11-20 is not today's session 2026-11-23" in answer.problem.message


@pytest.mark.parametrize("field, value, says", [
    ("02. open", "0.0000", "open 0.0000 is not a positive price"),
    ("08. previous close", "abc", "'08. previous close' is not a number"),
    ("06. volume", "-5", "volume '-5' is not a whole number"),
    ("06. volume", "12.5", "volume '12.5' is not a whole number"),
    ("05. price", "NaN", "not a finite number"),
    ("01. symbol", "IBMX", "the quote is for 'IBMX'"),
    ("07. latest trading day", "20-11-2026", "is not a date"),
])
def test_each_bad_value_is_named(field, value, says):
    import json

    doc = json.loads(recorded("global_quote/ibm.json"))
    doc["Global Quote"][field] = value
    answer = parse_quote(json.dumps(doc).encode(), symbol="IBM", session_day=DAY)
    assert not answer.ok and says in answer.problem.message


def test_an_empty_quote_object_of_every_field_missing_is_an_empty_answer():
    answer = parse_quote(b'{"Global Quote": {"x": 1}}', symbol="IBM", session_day=DAY)
    assert answer.problem.kind == EMPTY_SERIES
