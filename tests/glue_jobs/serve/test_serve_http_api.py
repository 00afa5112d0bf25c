"""The read API shared by `serve get`, `serve http` and the function-URL Lambda
(glue_jobs/serve/http_api.py): what a request may ask, and bars rendered with exact prices."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from glue_jobs.ports.serving import Bar
from glue_jobs.serve import http_api
from glue_jobs.serve.http_api import ApiError


def bar(day="2024-06-03", close="185.64") -> Bar:
    # 0.1 + 0.2 style noise is what a float path would print: the decimals must come out as stored.
    return Bar("AAPL", day, Decimal("184.1"), Decimal("186.0"), Decimal("0.00001"), Decimal(close), 51_234_567,
               "20240603T215900Z-ingest", "20240603T220000Z-aaaaaa")


def test_a_full_request_parses_into_a_query():
    q = http_api.route("GET", "/bars/aapl", "from=2024-01-02&to=2024-06-28&last=5")
    assert q == http_api.BarsQuery("AAPL", "2024-01-02", "2024-06-28", 5)
    assert http_api.route("GET", "/bars/BRK.B/", "") == http_api.BarsQuery("BRK.B")
    assert http_api.route("GET", "/bars/BRK%2EB", "from=") == http_api.BarsQuery("BRK.B")


@pytest.mark.parametrize("method,path,query,status,words", [
    ("GET", "/bars/AAPL", "from=2024-13-01", 400, "from '2024-13-01' is not a date"),
    ("GET", "/bars/AAPL", "from=20240101", 400, "is not a date"),
    ("GET", "/bars/AAPL", "from=2024-06-02&to=2024-06-01", 400, "from 2024-06-02 is after to 2024-06-01"),
    ("GET", "/bars/AAPL", "last=0", 400, "last 0: give 1 to"),
    ("GET", "/bars/AAPL", "last=-3", 400, "is not a whole number"),
    ("GET", "/bars/AAPL", "last=ten", 400, "is not a whole number"),
    ("GET", "/bars/AAPL", "form=2024-01-01", 400, "unknown parameter 'form'"),
    ("GET", "/bars/AAPL", "last=1&last=2", 400, "'last' is given 2 times"),
    ("GET", "/bars/AA%20PL", "", 400, "is not a ticker"),
    ("GET", "/bars/" + "A" * 16, "", 400, "is not a ticker"),
    ("GET", "/bars", "", 404, "no such path"),
    ("GET", "/prices/AAPL", "", 404, "no such path"),
    ("GET", "/bars/AAPL/extra", "", 404, "no such path"),
    ("POST", "/bars/AAPL", "", 405, "method POST is not allowed"),
])
def test_bad_requests_get_their_status_and_one_clear_line(method, path, query, status, words):
    with pytest.raises(ApiError) as err:
        http_api.route(method, path, query)
    assert err.value.status == status
    assert words in err.value.message and "\n" not in err.value.message


def test_the_cli_names_its_own_flags_in_errors():
    names = {"from": "--from", "to": "--to", "last": "--last"}
    with pytest.raises(ApiError, match=r"^--from '2024-02-30' is not a date"):
        http_api.bars_query("AAPL", "2024-02-30", names=names)
    with pytest.raises(ApiError, match=r"^--last 'x' is not a whole number"):
        http_api.bars_query("AAPL", last="x", names=names)


def test_json_prints_prices_from_the_exact_decimal_as_numbers():
    text = http_api.bars_json([bar(close="185.64"), bar(day="2024-06-04", close="100.0")])
    rows = json.loads(text, parse_float=Decimal)
    assert [r["close"] for r in rows] == [Decimal("185.64"), Decimal("100.0")]
    assert '"low": 0.00001,' in text and "e-" not in text.lower()  # plain notation, not 1e-05
    assert list(rows[0]) == list(http_api.FIELDS)
    assert rows[0]["volume"] == 51_234_567 and rows[0]["version"] == "20240603T220000Z-aaaaaa"
    assert json.loads(http_api.bars_json([])) == []


def test_csv_and_table_carry_the_same_exact_values():
    rows = list(csv.DictReader(io.StringIO(http_api.bars_csv([bar()]))))
    assert rows == [{"symbol": "AAPL", "trade_date": "2024-06-03", "open": "184.1", "high": "186.0",
                     "low": "0.00001", "close": "185.64", "volume": "51234567",
                     "ingest_run_id": "20240603T215900Z-ingest", "version": "20240603T220000Z-aaaaaa"}]
    table = http_api.bars_table([bar()]).splitlines()
    assert table[0].split() == list(http_api.FIELDS) and "185.64" in table[2] and table[-1] == "(1 bar)"


def test_an_error_response_is_json_with_the_message():
    resp = http_api.error_response(404, "no bars for symbol ZZZ in the serving table")
    assert (resp.status, resp.content_type) == (404, "application/json")
    assert json.loads(resp.body) == {"error": "no bars for symbol ZZZ in the serving table"}
