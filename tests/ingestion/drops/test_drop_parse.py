"""The drop parser on values: formats, symbols, and the problems it names (row and column)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.drops.parse import ALPHAVANTAGE, GENERIC, DropRejected, parse_drop, symbol_from_name

FIXTURES = Path(__file__).parents[2] / "fixtures" / "alphavantage"

AV = (b"timestamp,open,high,low,close,volume\r\n"
      b"2026-11-20,10.0,11.0,9.5,10.5,1000\r\n"
      b"2026-11-19,9.0,10.0,8.5,9.5,900\r\n")

GENERIC_CSV = (b"Date,Symbol,Open,High,Low,Close,Volume,Adj Close\n"
               b"2026-11-20,ibm,10,11,9,10.5,100,10.4\n"
               b"2026-11-20,MSFT,20,21,19,20.5,200,20.4\n"
               b"2026-11-19,IBM,9,10,8,9.5,90,9.4\n")


def test_a_recorded_alpha_vantage_csv_is_one_symbol_byte_for_byte_in_its_rows():
    data = (FIXTURES / "data_compact.csv").read_bytes()
    parsed = parse_drop(data, "daily_IBM.csv")
    assert parsed.format == ALPHAVANTAGE
    assert list(parsed.bars) == ["IBM"]
    assert parsed.rows == len(data.strip().splitlines()) - 1


def test_the_symbol_flag_wins_over_the_file_name():
    assert list(parse_drop(AV, "export.csv", symbol="aapl").bars) == ["AAPL"]


@pytest.mark.parametrize("name, symbol", [("IBM.csv", "IBM"), ("daily_IBM.csv", "IBM"), ("brk.b.CSV", "BRK.B"),
                                          ("/tmp/x/msft.csv", "MSFT"), ("my prices.csv", None), ("daily_.csv", None)])
def test_symbol_from_the_file_name(name, symbol):
    assert symbol_from_name(name) == symbol


@pytest.mark.parametrize("name", ["export.csv", "Export-2024-01-10.csv", "data.csv", "download.csv", "prices.csv",
                                  "daily_export.csv", "quotes.CSV", "history.csv", "untitled.csv"])
def test_a_file_name_that_is_a_generic_word_names_no_symbol(name):
    """export.csv would have landed as the ticker EXPORT: the user is asked for --symbol instead."""
    assert symbol_from_name(name) is None
    with pytest.raises(DropRejected, match="give it with --symbol"):
        parse_drop(AV, name)


@pytest.mark.parametrize("name, symbol", [("TSCO.LON.csv", "TSCO.LON"), ("BRK-B.csv", "BRK-B"),
                                          ("daily_adjusted_SHOP.TRT.csv", "SHOP.TRT"), ("DATA.csv", None)])
def test_tickers_with_exchange_and_class_suffixes_still_come_from_the_name(name, symbol):
    assert symbol_from_name(name) == symbol


def test_an_alpha_vantage_csv_without_a_symbol_asks_for_the_flag():
    with pytest.raises(DropRejected, match="give it with --symbol"):
        parse_drop(AV, "my prices.csv")


def test_a_generic_file_is_split_by_symbol_in_alpha_vantage_order_and_reports_ignored_columns():
    parsed = parse_drop(GENERIC_CSV, "mixed.csv")
    assert parsed.format == GENERIC
    assert sorted(parsed.bars) == ["IBM", "MSFT"]
    assert parsed.body("IBM") == (b"timestamp,open,high,low,close,volume\n"
                                  b"2026-11-20,10,11,9,10.5,100\n2026-11-19,9,10,8,9.5,90\n")
    assert parsed.ignored_columns == ["adj close"]


def test_timestamp_stands_for_date_in_the_generic_format():
    data = b"symbol,timestamp,open,high,low,close,volume\nIBM,2026-11-20,1,2,0.5,1.5,10\n"
    assert parse_drop(data, "x.csv").bars["IBM"][0].date == "2026-11-20"


def test_the_content_hash_identifies_the_bytes_not_the_name():
    assert parse_drop(AV, "IBM.csv").sha256 == parse_drop(AV, "daily_IBM.csv").sha256
    assert parse_drop(AV, "IBM.csv").sha256 != parse_drop(AV + b"2026-11-18,1,2,0.5,1,5\r\n", "IBM.csv").sha256


@pytest.mark.parametrize("data, name, symbol, expected", [
    (b"", "IBM.csv", None, "the file is empty"),
    (b"timestamp,open,high,low,close,volume\r\n", "IBM.csv", None, "no data row"),
    (b"day,price\n2026-11-20,1\n", "IBM.csv", None, "row 1: header 'day,price' is neither"),
    (b"\xff\xfeS\x00", "IBM.csv", None, "byte 0: the file is not UTF-8"),
    (AV.replace(b"10.0,11.0", b"10.0,eleven"), "IBM.csv", None, "row 2, column high: 'eleven' is not a number"),
    (AV.replace(b"900", b"9.5"), "IBM.csv", None, "row 3, column volume: '9.5' is not a whole number"),
    (AV.replace(b"2026-11-19", b"19/11/2026"), "IBM.csv", None, "row 3, column timestamp: '19/11/2026' is not a date"),
    (AV.replace(b",1000", b",1,000"), "IBM.csv", None, "row 2: 7 fields, the header has 6"),
    (AV.replace(b"9.5,900", b",900"), "IBM.csv", None, "row 3, column close: missing"),
    (GENERIC_CSV.replace(b"MSFT", b"ms ft"), "x.csv", None, "row 3, column symbol: 'ms ft' is not a ticker"),
    (GENERIC_CSV.replace(b",ibm,", b",,"), "x.csv", None, "row 2, column symbol: missing"),
    (GENERIC_CSV, "x.csv", "IBM", "row 3, column symbol: MSFT, but --symbol says IBM"),
    (b"symbol,date,open,high,close,volume\nIBM,2026-11-20,1,2,1,5\n", "x.csv", None, "needs column(s) low"),
    (GENERIC_CSV.replace(b"2026-11-19,IBM,9", b"2026-11-19,IBM,nine"), "x.csv", None,
     "row 4, column open: 'nine' is not a number"),
])
def test_a_malformed_file_is_refused_naming_row_and_column(data, name, symbol, expected):
    with pytest.raises(DropRejected) as caught:
        parse_drop(data, name, symbol)
    assert expected in str(caught.value)
    assert str(caught.value).startswith(f"{name}: ")


def test_every_problem_is_listed_up_to_ten_then_counted():
    rows = b"".join(b"2026-11-%02d,x,1,1,1,1\n" % d for d in range(1, 16))
    with pytest.raises(DropRejected) as caught:
        parse_drop(b"timestamp,open,high,low,close,volume\n" + rows, "IBM.csv")
    assert len(caught.value.problems) == 15
    assert str(caught.value).endswith("; and 5 more")


def test_a_plausibility_problem_is_left_to_the_audit():
    # high below low is well-formed: it lands and the audit quarantines it with its reason
    parsed = parse_drop(b"timestamp,open,high,low,close,volume\n2026-11-20,10,5,9,10,100\n", "IBM.csv")
    assert parsed.rows == 1
