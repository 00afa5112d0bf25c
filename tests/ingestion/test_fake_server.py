"""The fake Alpha Vantage enforces its limits on the test's clock (the benchmark relies on it)."""
from __future__ import annotations

import json

import requests

from ingestion.alphavantage.classify import classify


def get(server, symbol="IBM", key=None, **params):
    params = {"function": "TIME_SERIES_DAILY", "symbol": symbol, "apikey": key or server.api_key, **params}
    return requests.get(server.base_url, params=params, timeout=5)


def test_per_minute_limit_on_the_injected_clock(fake_av, clock):
    server = fake_av(per_minute=2)
    kinds = []
    for _ in range(3):
        kinds.append(classify(get(server).content).kind)
        clock.advance(1)
    clock.advance(60)
    kinds.append(classify(get(server).content).kind)
    assert kinds == ["data", "data", "rate_limit", "data"]
    assert server.limit_bodies == 1
    assert [round(c.at - server.calls[0].at) for c in server.calls] == [0, 1, 2, 63]


def test_daily_cap_echoes_the_key_and_resets_the_next_utc_day(fake_av, clock):
    server = fake_av(daily_limit=2)
    bodies = [get(server).content for _ in range(3)]
    assert [classify(b).kind for b in bodies] == ["data", "data", "daily_cap"]
    assert server.api_key in json.loads(bodies[2])["Information"]
    clock.advance(86_400)
    assert classify(get(server).content).kind == "data"


def test_wrong_key_invalid_symbol_premium_and_burst(fake_av, clock):
    server = fake_av(invalid_symbols=["NOPE"], min_spacing_s=1.0)
    assert classify(get(server, key="WRONG").content).kind == "bad_key"
    clock.advance(5)
    assert classify(get(server, "NOPE").content).kind == "invalid_symbol"
    clock.advance(5)
    assert classify(get(server, outputsize="full").content).kind == "premium"
    assert classify(get(server).content).kind == "rate_limit"  # no time passed: a burst
    assert [c.kind for c in server.calls] == ["bad_key", "invalid_symbol", "premium", "burst"]


def test_serves_csv_or_json_of_the_same_series(fake_av):
    from ingestion.alphavantage.parse import parse_body

    server = fake_av(last_refreshed_time="13:14:34")
    csv_body, json_body = get(server, datatype="csv").content, get(server, datatype="json").content
    assert csv_body.startswith(b"timestamp,open,high,low,close,volume\r\n")
    assert parse_body(csv_body).bars == parse_body(json_body).bars
    assert parse_body(json_body).forming_date == "2026-11-20"


def test_scripted_failures_come_before_the_data(fake_av):
    server = fake_av(failures={"IBM": ["html502", "truncated", "empty"]})
    answers = [get(server, datatype="csv") for _ in range(4)]
    assert [(r.status_code, classify(r.content, r.status_code).kind) for r in answers] == [
        (502, "server_error"), (200, "truncated"), (200, "empty_series"), (200, "data")]
