"""A quote whose numbers lie outside a quote's range (1E+30, a close of 1E-30, NaN, infinity,
a volume or sequence past 64 bits, an event time past 2100, 40 significant digits) is rejected
at the screen with its reason, like a zero price, instead of making the processor raise and
the record go to the failure queue after its retries."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.intraday import Consumer
from glue_jobs.intraday.screen import Rejected, screen
from glue_jobs.lake.quote_record import encode
from glue_jobs.ports.stream import StreamRecord
from glue_jobs.runtime import open_runtime
from tests.glue_jobs.intraday.lake_state import history_rows, rejected, served
from tests.glue_jobs.intraday.quotes import NOW, OPEN_MS, quote, stream_record
from workflows.intraday import open_processor

OUT_OF_RANGE = {
    "price 1E+30": (dict(price=Decimal("1E+30")), "price is 1E+30: out of range, a price must be at least 0.0001 and below 10000000"),
    "high 1E+30": (dict(high=Decimal("1E+30")), "high is 1E+30: out of range"),
    "a close of 1E-30": (dict(previous_close=Decimal("1E-30")), "previous_close is 1E-30: out of range"),
    "price at the limit": (dict(price=Decimal("10000000")), "price is 10000000: out of range"),
    "change 1E+400": (dict(change=Decimal("1E+400")), "change is 1E+400: out of range, its size must be below 10000000"),
    "change percent -1E+30": (dict(change_percent=Decimal("-1E+30")), "change_percent is -1E+30: out of range"),
    "9 decimal places": (dict(price=Decimal("101.123456789")), "price is 101.123456789: 9 decimal places, more than the 8"),
    "volume 2**70": (dict(volume=2**70), f"volume is {2**70}: out of range, it must be at least 0 and below"),
    "negative volume": (dict(volume=-5), "volume is -5: out of range"),
    "sequence 2**63": (dict(sequence=2**63), f"sequence is {2**63}: out of range"),
    "negative sequence": (dict(sequence=-1), "sequence is -1: out of range"),
    "event time 1E+20": (dict(event_time_ms=10**20), "event_time_ms is 100000000000000000000: out of range"),
}


def _at_session(record: StreamRecord) -> StreamRecord:
    # the transport's arrival is its own clock's, whatever the record claims
    return replace(record, arrival_ms=OPEN_MS + 5)


@pytest.mark.parametrize("fields,reason", OUT_OF_RANGE.values(), ids=list(OUT_OF_RANGE))
def test_a_number_out_of_range_is_rejected_naming_the_field_and_the_bound(fields, reason):
    outcome = screen(_at_session(stream_record(replace(quote(), **fields), "9")))
    assert isinstance(outcome, Rejected), outcome
    assert reason in outcome.reason


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", '"nan"', '"1E+30"'])
def test_nan_and_infinity_in_the_json_are_rejected(token):
    text = encode(quote()).decode().replace('"price":"101"', f'"price":{token}')
    assert f'"price":{token}' in text
    outcome = screen(StreamRecord("s", "9", "IBM", text.encode(), OPEN_MS + 5))
    assert isinstance(outcome, Rejected)
    expected = "price is 1E+30: out of range" if token == '"1E+30"' else "unreadable record: price: not a finite number"
    assert expected in outcome.reason


def test_a_price_with_more_digits_than_dynamodb_keeps_is_rejected_with_every_digit_counted():
    digits = "101.123456789012345678901234567890123456789"  # 42 significant digits; DynamoDB keeps 38
    text = encode(quote()).decode().replace('"price":"101"', f'"price":"{digits}"')
    outcome = screen(StreamRecord("s", "9", "IBM", text.encode(), OPEN_MS + 5))
    assert isinstance(outcome, Rejected)
    assert outcome.reason == ("price is 1.01123456789012345678901234567890123456789E+2: 39 decimal places, "
                              "more than the 8 a quote may carry")


def test_real_quotes_at_the_edges_of_the_range_pass():
    for fields in (dict(price=Decimal("0.0001"), low=Decimal("0.0001")), dict(price=Decimal("9999999.99999999"), high=Decimal("9999999.99999999")),
                   dict(volume=10**15 - 1, sequence=2**63 - 1), dict(price=Decimal("101.12345678"))):
        q = replace(quote(), **fields)
        assert screen(_at_session(stream_record(q, "9"))) == q


@pytest.fixture
def consumed(tmp_path) -> tuple[Path, dict, list[str]]:
    """IBM's second quote carries 1E+30, MSFT's a close of 1E-30; both shards go on."""
    log = SqliteStream(tmp_path / "log.sqlite", shards=2, clock=lambda: OPEN_MS / 1000 + 60)
    for i in range(1, 4):
        ibm = quote("IBM", str(100 + i), i)
        msft = quote("MSFT", str(400 - i), i, previous_close="400")
        if i == 2:
            ibm = replace(ibm, price=Decimal("1E+30"))
            msft = replace(msft, previous_close=Decimal("1E-30"))
        log.put("IBM", encode(ibm))
        log.put("MSFT", encode(msft))
    runtime = open_runtime(str(tmp_path / "lake"), create=True)
    failures = runtime.queue_factory("intraday-failures")
    processor = open_processor(runtime, env={}, clock=lambda: NOW)
    result = Consumer(log, processor, failures, batch=10).drain().to_dict()
    return tmp_path / "lake", result, [m.body for m in failures.receive(max_messages=10)]


def test_the_consumer_rejects_them_once_with_no_retry_and_nothing_on_the_failure_queue(consumed):
    lake, result, queued = consumed
    assert (result["records"], result["accepted"], result["rejected"], result["given_up"]) == (6, 4, 2, 0)
    assert result["errors"] == [] and queued == []
    reasons = sorted(json.loads(p.read_text())["reason"] for p in (lake / "stream" / "rejected").rglob("*.json"))
    assert len(rejected(lake)) == 2
    assert reasons[0].startswith("previous_close is 1E-30: out of range")
    assert reasons[1].startswith("price is 1E+30: out of range")
    assert [row[:2] for row in history_rows(lake)] == [("IBM", 1), ("IBM", 3), ("MSFT", 1), ("MSFT", 3)]
    serving = served(lake, ["IBM", "MSFT"])
    assert [s for s, *_ in serving["IBM"][0]] == [1, 3] and serving["IBM"][1][0] == 3


def test_the_fast_check_and_the_reasons_agree_at_every_edge():
    """out_of_range answers the common case in one chain of comparisons and words a reason
    separately: over each field's values at and around its bounds they must agree."""
    from glue_jobs.intraday import bounds

    edges = {
        "price": ["0.0001", "0.00009999", "9999999.99999999", "10000000", "-1", "0", "1.000000001", "1.0000000010"],
        "previous_close": ["0.0001", "0.00001", "10000000", "9999999"],
        "change": ["-9999999.9", "-10000000", "10000000", "0.00000001", "0.000000001"],
        "change_percent": ["99999999999999.99", "1E+14", "-1E+14", "0"],
        "volume": [0, -1, 10**15 - 1, 10**15],
        "sequence": [0, -1, 2**63 - 1, 2**63],
        "event_time_ms": [0, -1, bounds.EVENT_TIME_LIMIT_MS - 1, bounds.EVENT_TIME_LIMIT_MS],
    }
    for field, values in edges.items():
        for value in values:
            q = replace(quote(), **{field: Decimal(value) if isinstance(value, str) else value})
            fast, worded = bounds.out_of_range(q), bounds._reason(q)
            assert fast == worded, (field, value, fast, worded)
