"""One contract for both `quotes` table adapters (glue_jobs/ports/serving.py, QuotesTable): the
SQLite twin and DynamoDB (moto behind the stand-in of tests/support/dynamodb_contract.py, with
the table keyed and given its TTL attribute as infra/template.yaml declares it)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from glue_jobs.ports.serving import CurrentQuote, Quote, QuotesTable

QUOTES_TABLE = "tickerlake-test-quotes"
# as the template's QuotesTable (tests/infra/test_intraday_template.py checks they agree)
QUOTES_KEYS = {
    "KeySchema": [{"AttributeName": "symbol", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": "symbol", "AttributeType": "S"},
                             {"AttributeName": "sk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
NOW = 1_764_518_400


def q(sequence: int, price: str = "101.5", *, symbol: str = "IBM", expires_at: int = NOW + 3600,
      minute: int | None = None) -> Quote:
    return Quote(symbol=symbol, session="2026-11-30", event_time_ms=1_764_514_800_000 + 60_000 * (minute or sequence),
                 source="synthetic", sequence=sequence, price=Decimal(price), previous_close=Decimal("100"),
                 change=Decimal(price) - 100, change_percent=Decimal("1.5000"), moving_average=Decimal("100.7500"),
                 volume=1200, anomaly=False, expires_at=expires_at)


def dynamodb(request, tmp_path) -> QuotesTable:
    from glue_jobs.adapters.aws.quotes_dynamodb import DynamoQuotesTable

    contract = request.getfixturevalue("dynamodb_contract")
    contract.client.create_table(TableName=QUOTES_TABLE, **QUOTES_KEYS)
    contract.client.update_time_to_live(TableName=QUOTES_TABLE, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires_at"})
    return DynamoQuotesTable(QUOTES_TABLE, contract.client, page_size=2)


def sqlite(request, tmp_path) -> QuotesTable:
    from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable

    return SqliteQuotesTable(tmp_path / "serving" / "quotes.sqlite")


@pytest.fixture(params=["dynamodb", "sqlite"])
def table(request, tmp_path) -> QuotesTable:
    return {"dynamodb": dynamodb, "sqlite": sqlite}[request.param](request, tmp_path)


def test_recent_quotes_are_create_only_so_a_replay_changes_nothing(table):
    first = table.put_quotes([q(1), q(2, "102.25")])
    assert (first.written, first.stale) == (2, 0)
    again = table.put_quotes([q(1, "999"), q(2), q(3, "103")])
    assert (again.written, again.stale) == (1, 2)
    assert [(x.sequence, x.price) for x in table.recent("IBM", now=NOW)] == [
        (1, Decimal("101.5")), (2, Decimal("102.25")), (3, Decimal("103"))]


def test_recent_is_in_time_order_and_last_keeps_the_newest(table):
    table.put_quotes([q(3, minute=30), q(1, minute=5), q(2, minute=12), q(9, symbol="MSFT")])
    assert [x.sequence for x in table.recent("IBM", now=NOW)] == [1, 2, 3]
    assert [x.sequence for x in table.recent("IBM", now=NOW, last=2)] == [2, 3]
    assert table.recent("IBM", now=NOW, last=0) == []


def test_the_current_quote_only_moves_forward_and_keeps_its_window_exactly(table):
    window = (Decimal("100.1"), Decimal("101.55"), Decimal("102"))
    assert table.put_current([CurrentQuote(q(5), window)]).written == 1
    older = table.put_current([CurrentQuote(q(4, "1"), ()), CurrentQuote(q(5, "2"), ())])
    assert (older.written, older.stale) == (0, 2)
    current = table.get_current("IBM", now=NOW)
    assert current == CurrentQuote(q(5), window)
    assert table.put_current([CurrentQuote(q(6, "104"), window[1:])]).written == 1
    assert table.get_current("IBM", now=NOW).quote.sequence == 6
    assert table.get_current("MSFT", now=NOW) is None


def test_expired_items_are_invisible_at_once_and_purged_locally(table):
    table.put_quotes([q(1, expires_at=NOW - 1), q(2, expires_at=NOW), q(3, expires_at=NOW + 1)])
    table.put_current([CurrentQuote(q(3, expires_at=NOW), ())])
    assert [x.sequence for x in table.recent("IBM", now=NOW)] == [3]
    assert [x.sequence for x in table.recent("IBM", now=NOW, last=1)] == [3]
    assert table.get_current("IBM", now=NOW) is None
    assert table.get_current("IBM", now=NOW - 1) is not None
    purged = table.purge_expired(now=NOW)
    assert purged in (0, 3)  # DynamoDB's TTL deletes on its own (0); SQLite deletes them now
    assert [x.sequence for x in table.recent("IBM", now=NOW - 10)] == ([1, 2, 3] if purged == 0 else [3])


def test_an_anomaly_flag_and_decimals_survive_the_round_trip(table):
    odd = replace(q(1, "0.0001"), anomaly=True, change_percent=Decimal("-12.3456"))
    table.put_quotes([odd])
    assert table.recent("IBM", now=NOW) == [odd]


def test_texts_that_need_json_escaping_and_exponent_decimals_survive_the_round_trip(table):
    # the SQLite twin spells its JSON item out by hand (a batch pays for it per quote)
    odd = replace(q(1, "1E+2"), symbol='B"R\\K.\u00e9\n', source="synth\u2028etic", session="2026-11-30",
                  change=Decimal("-1E-8"), moving_average=Decimal("100.75000000"))
    table.put_quotes([odd])
    table.put_current([CurrentQuote(odd, (Decimal("1E+2"),))])
    assert table.recent(odd.symbol, now=NOW) == [odd]
    current = table.get_current(odd.symbol, now=NOW)
    assert current is not None and current.quote == odd and current.window == (Decimal("100"),)
