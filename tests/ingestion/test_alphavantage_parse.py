from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from ingestion.alphavantage.parse import (
    Bar,
    ParseError,
    csv_summary,
    forming_date_at,
    parse_body,
    parse_csv,
    parse_json,
    render_csv,
)
from tests.support.recorded import recorded


def test_json_and_csv_of_the_same_series_give_the_same_bars():
    from_json = parse_json(recorded("data_compact.json"))
    from_csv = parse_csv(recorded("data_compact.csv"))
    assert from_json.bars == from_csv.bars
    assert len(from_json.bars) == 6
    assert from_json.bars[0] == Bar("2026-11-20", "221.5000", "224.8800", "220.1000", "223.7100", "4827879")


def test_json_date_keys_in_any_order_come_out_newest_first():
    doc = json.loads(recorded("data_compact.json"))
    items = list(doc["Time Series (Daily)"].items())
    random.Random(7).shuffle(items)
    doc["Time Series (Daily)"] = dict(items)
    bars = parse_json(json.dumps(doc).encode()).bars
    assert [b.trade_date for b in bars] == sorted((b.trade_date for b in bars), reverse=True)
    assert bars == parse_json(recorded("data_compact.json")).bars


def test_lf_and_crlf_csv_parse_alike():
    crlf = recorded("data_compact.csv")
    assert parse_csv(crlf.replace(b"\r\n", b"\n")).bars == parse_csv(crlf).bars


def test_csv_keeps_received_order():
    crlf = recorded("data_compact.csv")
    header, *rows = crlf.split(b"\r\n")[:-1]
    oldest_first = b"\r\n".join([header] + rows[::-1]) + b"\r\n"
    assert parse_csv(oldest_first).bars == parse_csv(crlf).bars[::-1]


def test_last_refreshed_with_a_time_before_the_close_marks_the_newest_bar_forming():
    series = parse_json(recorded("data_compact.json"))
    assert series.last_refreshed == "2026-11-20 13:14:34"
    assert series.last_refreshed_time == dt.time(13, 14, 34)
    assert series.forming_date == "2026-11-20"
    assert series.symbol == "IBM" and series.time_zone == "US/Eastern"


@pytest.mark.parametrize("refreshed", ["2026-11-20", "2026-11-20 16:00:01"])
def test_a_closed_session_is_not_forming(refreshed):
    doc = json.loads(recorded("data_compact.json"))
    doc["Meta Data"]["3. Last Refreshed"] = refreshed
    assert parse_json(json.dumps(doc).encode()).forming_date is None


@pytest.mark.parametrize(
    "fetched_at, forming",
    [
        (dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.timezone.utc), "2026-11-20"),  # 13:30 in New York
        (dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.timezone.utc), None),  # 17:00 in New York
        (dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.timezone.utc), None),  # next day
    ],
)
def test_a_csv_bar_is_forming_when_fetched_on_its_day_before_the_close(fetched_at, forming):
    assert forming_date_at("2026-11-20", fetched_at) == forming


def test_bad_values_reach_later_stages_as_received():
    body = (
        b"timestamp,open,high,low,close,volume\r\n"
        b'2026-11-20,NaN,10.0,9.0,,"1,234"\r\n'
        b"2026-11-19,-1,-1,-1,-1,-500\r\n"
    )
    bars = parse_csv(body).bars
    assert bars[0] == Bar("2026-11-20", "NaN", "10.0", "9.0", "", "1,234")
    assert bars[1].volume == "-500"


def test_an_unexpected_header_is_reported_not_guessed():
    series = parse_csv(b"timestamp,open,high,low,close,adjusted_close,volume\r\n2026-11-20,1,2,0,1,1,10\r\n")
    assert not series.header_ok
    assert series.columns[5] == "adjusted_close"
    assert any("unexpected CSV header" in p for p in series.problems)


def test_short_rows_are_padded_and_noted():
    series = parse_csv(b"timestamp,open,high,low,close,volume\r\n2026-11-20,1,2\r\n")
    assert series.bars == [Bar("2026-11-20", "1", "2", "", "", "")]
    assert series.problems == ["line 2: 3 fields, expected 6"]


def test_render_csv_reproduces_the_api_layout():
    assert render_csv(parse_csv(recorded("data_compact.csv")).bars) == recorded("data_compact.csv")
    assert render_csv(parse_json(recorded("data_compact.json")).bars) == recorded("data_compact.csv")


def test_render_csv_quotes_values_with_commas():
    body = render_csv([Bar("2026-11-20", "1", "2", "0.5", "1.5", "1,234")])
    assert body.endswith(b'"1,234"\r\n')
    assert parse_csv(body).bars[0].volume == "1,234"


def test_csv_summary_counts_rows_and_finds_the_newest_date():
    assert csv_summary(recorded("data_compact.csv")) == (6, "2026-11-20")
    assert csv_summary(recorded("empty_series.csv")) == (0, None)


@pytest.mark.parametrize("body, expected", [
    (b"timestamp,open\r\n\r\n2026-11-20,1\r\n \t\r\n2026-11-19,2\r\n\r\n", (2, "2026-11-20")),
    (b"\n  \ntimestamp,open\n\x0b\n 2026-11-18 ,1\n2026-11-19,2", (2, "2026-11-19")),
    (b"timestamp,open\r\n \r\n\t\r\n", (0, None)),
    (b"", (0, None)),
    (b"timestamp,open\r2026-11-20,1\r", (1, "2026-11-20")),
])
def test_csv_summary_skips_blank_and_space_only_lines(body, expected):
    assert csv_summary(body) == expected


@pytest.mark.parametrize("name, message", [
    ("truncated.json", "JSON body does not parse: Unterminated string"),
    ("error_invalid_symbol.json", "JSON body has no 'Time Series \\(Daily\\)' object"),
])
def test_json_that_is_not_a_series_raises(name, message):
    with pytest.raises(ParseError, match=message):
        parse_body(recorded(name))


def test_parse_body_sniffs_the_format():
    assert parse_body(recorded("data_compact.json")).datatype == "json"
    assert parse_body(recorded("data_compact.csv")).datatype == "csv"
