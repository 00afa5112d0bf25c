"""The pure rules: what is rejected and why, and what enrichment computes."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from glue_jobs.after.alerts.config import parse_config
from glue_jobs.intraday import alert_rules
from glue_jobs.intraday.enrich import enrich
from glue_jobs.intraday.screen import Rejected, screen
from glue_jobs.lake.quote_record import encode
from glue_jobs.ports.stream import StreamRecord
from tests.glue_jobs.intraday.quotes import OPEN_MS, SESSION, quote, stream_record


def _reason(q) -> str:
    outcome = screen(stream_record(q, "9"))
    assert isinstance(outcome, Rejected), outcome
    return outcome.reason


@pytest.mark.parametrize("field", ["price", "open", "high", "low", "previous_close"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_price_that_is_not_positive_is_rejected_naming_the_field(field, value):
    assert _reason(replace(quote(), **{field: Decimal(value)})) == f"{field} is {value}: prices must be positive"


def test_a_quote_whose_latest_trading_day_is_not_its_session_is_rejected():
    assert "latest trading day 2026-11-27 is not the session of its event time (2026-11-30)" in _reason(
        quote(latest_trading_day="2026-11-27"))


def test_a_quote_on_a_holiday_is_rejected():
    thanksgiving = OPEN_MS - 4 * 86_400_000  # Thursday 2026-11-26
    assert "2026-11-26, not an NYSE session" in _reason(quote(event_time_ms=thanksgiving,
                                                              latest_trading_day="2026-11-26"))


def test_missing_fields_and_error_bodies_are_rejected_with_the_decoder_s_reason():
    doc = json.loads(encode(quote()))
    del doc["price"]
    missing = StreamRecord("s", "9", "IBM", json.dumps(doc).encode(), 0)
    assert screen(missing).reason == "unreadable record: missing field(s): price"
    limit = StreamRecord("s", "9", "IBM", b'{"Information": "rate limit"}', 0)
    assert "missing field(s): symbol" in screen(limit).reason


def test_a_record_under_another_symbol_s_partition_key_is_rejected():
    record = StreamRecord("s", "9", "MSFT", encode(quote("IBM")), 0)
    assert "put under partition key 'MSFT'" in screen(record).reason


def test_a_good_quote_passes():
    q = quote()
    assert screen(stream_record(q, "9")) == q


def test_enrichment_recomputes_change_against_the_previous_close_and_averages_the_window():
    first = enrich(quote(price="101", change=Decimal("999")), None, window=2, anomaly_percent=5, expires_at=1)
    assert (first.quote.change, first.quote.change_percent, first.quote.moving_average) == (
        Decimal("1"), Decimal("1.0000"), Decimal("101.0000"))
    second = enrich(quote(price="104", sequence=2), first.current, window=2, anomaly_percent=5, expires_at=1)
    third = enrich(quote(price="110", sequence=3), second.current, window=2, anomaly_percent=5, expires_at=1)
    assert second.quote.moving_average == Decimal("102.5000")
    assert third.quote.moving_average == Decimal("107.0000")  # 104 and 110: the window is 2
    assert third.current.window == (Decimal("104"), Decimal("110"))
    assert third.previous_price == Decimal("104")
    assert (second.quote.anomaly, third.quote.anomaly) == (False, True)  # +4 % then +10 %


def test_the_window_starts_afresh_each_session():
    yesterday = enrich(quote(price="90"), None, window=5, anomaly_percent=5, expires_at=1)
    object.__setattr__(yesterday.current.quote, "session", "2026-11-27")
    today = enrich(quote(price="101", sequence=2), yesterday.current, window=5, anomaly_percent=5, expires_at=1)
    assert today.quote.moving_average == Decimal("101.0000") and today.previous_price is None


def test_exactly_the_threshold_is_not_an_anomaly():
    assert not enrich(quote(price="105"), None, window=3, anomaly_percent=5, expires_at=1).quote.anomaly
    assert enrich(quote(price="94.99"), None, window=3, anomaly_percent=5, expires_at=1).quote.anomaly


def test_alerts_are_keyed_by_rule_symbol_and_session_and_crossings_need_a_previous_quote():
    config = parse_config({"daily_move": {"percent": 5}, "price_levels": {"IBM": {"up": [103]}}})
    a = enrich(quote(price="102"), None, window=3, anomaly_percent=5, expires_at=1)
    b = enrich(quote(price="106", sequence=2), a.current, window=3, anomaly_percent=5, expires_at=1)
    c = enrich(quote(price="107", sequence=3), b.current, window=3, anomaly_percent=5, expires_at=1)
    alerts = alert_rules.evaluate([a, b, c], config, "r")
    assert [x.dedupe_key for x in alerts] == [f"intraday_move|IBM|{SESSION}", f"intraday_price_cross|IBM|{SESSION}"]
    assert "crossed up through 103.00" in alerts[1].subject


def test_throttle_folds_the_surplus_into_one_summary_naming_them():
    config = parse_config({})
    many = [enrich(quote(f"S{i}", "120"), None, window=1, anomaly_percent=5, expires_at=1) for i in range(5)]
    alerts = alert_rules.evaluate(many, config, "r")
    out = alert_rules.throttle(alerts, 2, "r")
    assert len(out) == 3 and out[-1].rule == "intraday_summary"
    assert out[-1].details["dedupe_keys"] == [a.dedupe_key for a in alerts[2:]]
    assert alert_rules.throttle(alerts, 5, "r") == alerts
