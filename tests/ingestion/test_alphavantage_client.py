from __future__ import annotations

import logging
import socket

import pytest

from ingestion.alphavantage.api_key import ApiKey
from ingestion.alphavantage.client import AlphaVantageClient, FetchError


def client_for(url, key, clock, **kw):
    return AlphaVantageClient(ApiKey(key), base_url=url, sleep=clock.sleep, jitter=lambda: 1.0, **kw)


def test_5xx_is_retried_with_growing_backoff_then_the_data_comes_back(fake_av, clock):
    server = fake_av(failures={"IBM": ["html502", "html502"]})
    response = client_for(server.base_url, server.api_key, clock).get_daily("IBM")
    assert response.status == 200
    assert response.body == server.data_body("IBM")
    assert response.attempts == 3
    assert [r.status for r in response.earlier] == [502, 502]
    assert clock.sleeps == [2.0, 4.0]  # base 2 s, doubled each time (jitter pinned to its top)


def test_backoff_is_jittered_and_capped():
    client = AlphaVantageClient(ApiKey("k" * 8), backoff_base_s=2, backoff_max_s=10, jitter=lambda: 0.0)
    assert [client.backoff_s(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_giving_up_names_the_symbol_and_keeps_the_pages(fake_av, clock):
    server = fake_av(failures={"MSFT": ["html502"] * 5})
    client = client_for(server.base_url, server.api_key, clock, max_attempts=3)
    with pytest.raises(FetchError, match="MSFT: GET TIME_SERIES_DAILY failed 3 times, last: HTTP 502") as caught:
        client.get_daily("MSFT")
    assert len(caught.value.responses) == 3
    assert len(server.calls) == 3 and len(clock.sleeps) == 2


def test_transport_errors_are_retried_and_never_show_the_key(clock, caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/query"
    key = "LEAKCHECK0000KEY"
    client = client_for(url, key, clock, max_attempts=2, timeout_s=2)
    with pytest.raises(FetchError) as caught:
        client.get_daily("IBM")
    assert "IBM" in str(caught.value) and "ConnectionError" in str(caught.value)
    assert key not in str(caught.value)
    assert key not in caplog.text
    assert len(clock.sleeps) == 1


def test_the_request_carries_the_parameters_and_the_url_is_masked(fake_av, clock, caplog):
    caplog.set_level(logging.DEBUG)
    server = fake_av()
    response = client_for(server.base_url, server.api_key, clock).get_daily("ibm", datatype="json")
    call = server.calls[-1]
    assert (call.symbol, call.outputsize, call.datatype, call.key_ok) == ("IBM", "compact", "json", True)
    assert server.api_key not in response.url and "apikey=***" in response.url
    assert server.api_key not in caplog.text


def test_pace_is_called_before_every_attempt(fake_av, clock):
    server = fake_av(failures={"IBM": ["html502"]})
    paced = []
    client_for(server.base_url, server.api_key, clock).get_daily("IBM", pace=lambda: paced.append(1))
    assert len(paced) == len(server.calls) == 2


def test_other_answers_are_returned_as_received(fake_av, clock):
    server = fake_av(invalid_symbols=["NOPE"])
    response = client_for(server.base_url, server.api_key, clock).get_daily("NOPE")
    assert response.status == 200 and b"Error Message" in response.body
    assert response.attempts == 1 and clock.sleeps == []
