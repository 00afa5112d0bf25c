"""Every rejected body that holds the API key is kept masked, whatever the key's surroundings
(not only Alpha Vantage's "detected your API key as ..." sentence), the 5xx pages received
before an answer included; a data body is kept byte for byte."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ingestion.alphavantage.api_key import ApiKey
from ingestion.alphavantage.client import Response
from ingestion.alphavantage.source import AlphaVantageSource

KEY = "ZQ7K2M9P4X1B"


class _OneAnswer:
    """A client that answers every call with one recorded response."""

    def __init__(self, response: Response):
        self.response = response

    def get_daily(self, symbol, **_):
        return self.response


def _fetch(response: Response):
    source = AlphaVantageSource(_OneAnswer(response), ApiKey(KEY), datatype="csv", clock=lambda: 1_709_935_200.0)
    return source.fetch("IBM", as_of=dt.date(2024, 3, 8))


REJECTED = {
    "error message naming the key": (200, "application/json", json.dumps(
        {"Error Message": f"Invalid API call: the key {KEY} may not call TIME_SERIES_DAILY."}).encode()),
    "key in quotes": (200, "application/json", json.dumps({"Information": f'Key "{KEY}" is over quota.'}).encode()),
    "html error page": (502, "text/html", f"<html><body>upstream {KEY}:502</body></html>".encode()),
    "echo sentence": (200, "application/json", json.dumps(
        {"Information": f"We have detected your API key as {KEY} and our standard limit is 25."}).encode()),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_a_rejected_body_holding_the_key_is_kept_masked(name):
    status, content_type, body = REJECTED[name]
    result = _fetch(Response(status, content_type, body, 0.1, "https://x/query?apikey=***"))
    assert not result.classification.is_data
    assert KEY.encode() not in result.body
    assert b"***" in result.body
    assert result.redacted is True


def test_a_5xx_page_received_before_the_answer_is_kept_masked_too():
    page = Response(503, "text/html", f"<p>busy, key {KEY}</p>".encode(), 0.1, "u")
    data = b"timestamp,open,high,low,close,volume\r\n2024-03-08,1,2,0.5,1.5,10\r\n"
    result = _fetch(Response(200, "text/csv", data, 0.1, "u", earlier=(page,)))
    assert result.classification.is_data and result.body == data
    assert [KEY.encode() in r.body for r in result.earlier] == [False]
    assert result.earlier[0].redacted is True


def test_a_data_body_is_kept_as_received():
    data = b"timestamp,open,high,low,close,volume\r\n2024-03-08,1,2,0.5,1.5,10\r\n"
    result = _fetch(Response(200, "text/csv", data, 0.1, "u"))
    assert result.classification.is_data and result.body == data and result.redacted is False
