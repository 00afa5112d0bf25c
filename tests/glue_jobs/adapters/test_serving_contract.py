"""One contract for every serving-table adapter (glue_jobs/ports/serving.py): what the loader,
`serve get|http|verify|rebuild` and an application reading the table rely on, run against
DynamoDB (moto behind the stand-in of tests/support/dynamodb_contract.py) and the local SQLite
table. Faults only DynamoDB produces (throttling, unprocessed batch items) and its request
counts are checked where the harness has them (`faults`); everything else holds for both."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from glue_jobs.ports.serving import Bar, BarColumns, Deletion, ServingTable, ServingUnavailable, WriteResult

V1, V2, V3 = "20240102T220000Z-aaaaaa", "20240103T220000Z-bbbbbb", "20240104T220000Z-cccccc"


@dataclass
class Harness:
    table: ServingTable
    make: Callable[..., ServingTable]  # another handle on the same table, with options (page_size, max_attempts)
    faults: Any = None  # the DynamoDB stand-in (throttle, leave_unprocessed, calls), or None
    sleeps: list = field(default_factory=list)  # backoff delays the adapter asked for

    def needs_faults(self) -> Any:
        if self.faults is None:
            pytest.skip("a DynamoDB fault: this adapter has no such failure mode")
        return self.faults


def dynamodb_harness(request: pytest.FixtureRequest, tmp_path) -> Harness:
    from glue_jobs.adapters.aws.serving_dynamodb import DynamoServingTable

    contract = request.getfixturevalue("dynamodb_contract")
    sleeps: list[float] = []

    def make(**options: Any) -> ServingTable:
        # rng() == 1: the jitter's upper bound, so the backoff's growth is visible in `sleeps`
        return DynamoServingTable(contract.table_name, contract.client, sleep=sleeps.append, rng=lambda: 1.0,
                                  **options)

    return Harness(make(), make, contract, sleeps)


def sqlite_harness(request: pytest.FixtureRequest, tmp_path) -> Harness:
    from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable

    path = tmp_path / "serving" / "bars.sqlite"
    return Harness(SqliteServingTable(path), lambda **_: SqliteServingTable(path))


HARNESSES = {
    "dynamodb": dynamodb_harness,
    "sqlite": sqlite_harness,
}


@pytest.fixture(params=sorted(HARNESSES))
def serving(request, tmp_path) -> Harness:
    return HARNESSES[request.param](request, tmp_path)


def bar(symbol: str = "AAPL", day: str = "2024-01-02", version: str = V1, close: str = "187.15", **over: Any) -> Bar:
    fields = dict(symbol=symbol, trade_date=day, open=Decimal("185.5"), high=Decimal("188.44"),
                  low=Decimal("183.89"), close=Decimal(close), volume=82_488_700, ingest_run_id=f"ingest-{version}",
                  version=version)
    fields.update(over)
    return Bar(**fields)


def days(count: int, start: int = 2) -> list[str]:
    return [f"2024-01-{day:02d}" for day in range(start, start + count)]


# -- values ------------------------------------------------------------------------------------

def test_serving_round_trip_keeps_exact_decimals_and_big_volumes(serving):
    # Prices as the loader makes them, Decimal(repr(double)): the shortest text that reads back
    # as the same double. A float anywhere on the way changes them (0.30000000000000004 ->
    # 0.3000000000000000444...), and a volume past 2**53 would lose its last digit.
    tricky = bar(open=Decimal(repr(0.1 + 0.2)), high=Decimal(repr(1234567.891)), low=Decimal(repr(1e-07)),
                 close=Decimal("100.0"), volume=2 ** 53 + 1)
    plain = bar("MSFT", "2024-01-03", close="370.6")
    assert serving.table.put_bars([tricky, plain]) == WriteResult(written=2)

    [back] = serving.table.get_bars("AAPL")
    assert back == tricky
    assert str(back.open) == "0.30000000000000004" and back.volume == 9007199254740993
    assert isinstance(back.close, Decimal) and back.close == Decimal("100")
    assert sorted(serving.table.scan(), key=lambda b: b.symbol) == [tricky, plain]
    assert serving.table.symbols() == ["AAPL", "MSFT"]


# -- versions ----------------------------------------------------------------------------------

def test_serving_newer_version_wins_and_older_or_same_is_stale(serving):
    table = serving.table
    assert table.put_bars([bar(version=V1, close="10")]) == WriteResult(written=1)
    assert table.put_bars([bar(version=V2, close="20")]) == WriteResult(written=1)  # a rollback or a re-run
    # a late message from before: refused, counted, not an error
    assert table.put_bars([bar(version=V1, close="10")]) == WriteResult(stale=1)
    # the same version again (a replayed message, even with other values) changes nothing
    assert table.put_bars([bar(version=V2, close="99")]) == WriteResult(stale=1)
    [row] = table.get_bars("AAPL")
    assert (row.close, row.version) == (Decimal("20"), V2)
    # one call mixes outcomes per row
    result = table.put_bars([bar(version=V3, close="30"), bar(day="2024-01-03", version=V1), bar(version=V2)])
    assert result == WriteResult(written=2, stale=1)
    assert [(b.trade_date, b.version) for b in table.get_bars("AAPL")] == [("2024-01-02", V3), ("2024-01-03", V1)]


def test_serving_delete_respects_versions(serving):
    table = serving.table
    table.put_bars([bar(version=V2), bar(day="2024-01-03", version=V2), bar(day="2024-01-04", version=V3)])
    # an older deletion (a late message) must not remove what a newer publish wrote
    assert table.delete_bars([Deletion("AAPL", "2024-01-02", V1)]) == WriteResult(stale=1)
    assert table.delete_bars([Deletion("AAPL", "2024-01-04", V2)]) == WriteResult(stale=1)
    # the same version (the rollback that removed the key) or a newer one deletes
    assert table.delete_bars([Deletion("AAPL", "2024-01-02", V2), Deletion("AAPL", "2024-01-03", V3)]) \
        == WriteResult(deleted=2)
    assert [b.trade_date for b in table.get_bars("AAPL")] == ["2024-01-04"]
    # a key already gone: nothing deleted, nothing refused (a replayed deletion)
    assert table.delete_bars([Deletion("AAPL", "2024-01-02", V2), Deletion("ZZZZ", "2024-01-02", V3)]) \
        == WriteResult()


# -- reads -------------------------------------------------------------------------------------

@pytest.fixture
def ten_days(serving) -> Harness:
    serving.table.put_bars([bar(day=day, close=str(100 + i)) for i, day in enumerate(days(10))]  # 01-02 .. 01-11
                           + [bar("MSFT", day) for day in days(3)] + [bar("AAP", "2024-01-05")])
    return serving


def dates(bars: list[Bar]) -> list[str]:
    return [b.trade_date for b in bars]


def test_serving_get_bars_by_range_and_last(ten_days):
    table = ten_days.table
    assert dates(table.get_bars("AAPL")) == days(10)  # date order, one symbol only (not AAP)
    assert dates(table.get_bars("AAPL", start="2024-01-04", end="2024-01-06")) == days(3, start=4)  # inclusive
    assert dates(table.get_bars("AAPL", start="2024-01-09")) == days(3, start=9)
    assert dates(table.get_bars("AAPL", end="2024-01-03")) == days(2)
    assert dates(table.get_bars("AAPL", start="2024-01-05", end="2024-01-05")) == ["2024-01-05"]
    # last N: the newest N, still in date order
    assert dates(table.get_bars("AAPL", last=3)) == ["2024-01-09", "2024-01-10", "2024-01-11"]
    assert [b.close for b in table.get_bars("AAPL", last=2)] == [Decimal("108"), Decimal("109")]
    assert dates(table.get_bars("AAPL", end="2024-01-05", last=2)) == ["2024-01-04", "2024-01-05"]
    assert dates(table.get_bars("AAPL", last=50)) == days(10)
    # empty answers, not errors: DynamoDB refuses a reversed BETWEEN, the adapter must not ask it
    assert table.get_bars("AAPL", start="2024-01-06", end="2024-01-04") == []
    assert table.get_bars("AAPL", last=0) == []
    assert table.get_bars("AAPL", last=-1) == []  # never "no limit" (SQLite reads LIMIT -1 so)
    assert table.get_bars("NOPE") == []
    assert table.get_bars("AAPL", start="2025-01-01") == []


def test_serving_reads_follow_pages(ten_days):
    # 1 MB pages are impractical in a test: a page of 2 rows makes every read span pages
    table = ten_days.make(page_size=2)
    assert dates(table.get_bars("AAPL")) == days(10)
    assert dates(table.get_bars("AAPL", last=5)) == days(5, start=7)
    assert dates(table.get_bars("AAPL", start="2024-01-03", end="2024-01-07")) == days(5, start=3)
    assert len(list(table.scan())) == 14
    assert table.symbols() == ["AAP", "AAPL", "MSFT"]
    if ten_days.faults is not None:
        calls = ten_days.faults.calls
        calls.clear()
        table.get_bars("AAPL", last=5)
        assert calls["Query"] == 3  # 2 + 2 + 1: `last` stops paging once it has enough
        table.get_bars("AAPL")
        # 10 rows in pages of 2 (DynamoDB may add an empty last page; moto does not)
        assert calls["Query"] - 3 in (5, 6)


# -- the bulk path (rebuild) --------------------------------------------------------------------

def test_serving_bulk_write_splits_batches_and_ignores_versions(serving):
    table = serving.table
    table.put_bars([bar(day="2024-01-02", version=V3, close="1")])  # newer than the rebuild's rows
    rows = [bar(symbol, day, version=V2, close="2") for symbol in ("AAPL", "MSFT", "NVDA")
            for day in [f"2024-{month:02d}-{d:02d}" for month in (1, 2) for d in range(1, 11)]]
    assert table.put_bars_unconditionally(rows) == WriteResult(written=60)
    assert sorted(table.scan(), key=lambda b: b.key) == sorted(rows, key=lambda b: b.key)  # V3 replaced too
    if serving.faults is not None:
        # the stand-in refuses more than 25 per call, as DynamoDB does; this is how they went
        assert serving.faults.batch_sizes == [25, 25, 10]


def test_serving_bulk_write_later_duplicate_wins(serving):
    # DynamoDB refuses a key twice in one BatchWriteItem: the adapter must split, keeping order
    rows = [bar(day=day, close="1") for day in days(5)] + [bar(day="2024-01-03", close="2")] \
        + [bar(day=day, close="1") for day in days(3, start=10)]
    assert serving.table.put_bars_unconditionally(rows).written == len(rows)
    closes = {b.trade_date: b.close for b in serving.table.get_bars("AAPL")}
    assert closes["2024-01-03"] == Decimal("2") and len(closes) == 8


def test_serving_bulk_write_retries_unprocessed_items(serving):
    faults = serving.needs_faults()
    faults.leave_unprocessed(4, times=2)  # the first call and its first resend each leave 4
    rows = [bar(day=day) for day in days(20)]
    result = serving.table.put_bars_unconditionally(rows)
    assert result == WriteResult(written=20, retried=8)
    assert dates(serving.table.get_bars("AAPL")) == days(20)
    assert faults.batch_sizes == [20, 4, 4]
    assert serving.sleeps == [0.05, 0.1]  # backed off between resends, growing

    faults.leave_unprocessed(25, times=3)  # a whole batch unprocessed, again and again
    result = serving.table.put_bars_unconditionally([bar("MSFT", day) for day in days(25)])
    assert result == WriteResult(written=25, retried=75)
    assert len(serving.table.get_bars("MSFT")) == 25


def as_columns(rows: list[Bar]) -> BarColumns:
    # texts as the bulk path's maker writes them (str of the Decimal), one version for all
    [version] = {b.version for b in rows}
    return BarColumns([b.symbol for b in rows], [b.trade_date for b in rows], [str(b.open) for b in rows],
                      [str(b.high) for b in rows], [str(b.low) for b in rows], [str(b.close) for b in rows],
                      [b.volume for b in rows], [b.ingest_run_id for b in rows], version)


def test_serving_columns_write_the_same_rows_as_bars_in_batches_of_25(serving):
    # The rebuild's bulk path: the same rows as put_bars_unconditionally, exact decimals and
    # big volumes included, whatever the table held, a later repeat of a key winning.
    table = serving.table
    table.put_bars([bar(day="2024-01-02", version=V3, close="1")])  # newer: replaced all the same
    rows = [bar(symbol, day, version=V2, close="2", open=Decimal(repr(0.1 + 0.2)), low=Decimal("1E-7"),
                volume=2 ** 53 + 1) for symbol in ("AAPL", "MSFT") for day in days(20)]
    rows.append(bar("AAPL", "2024-01-05", version=V2, close="3"))
    assert table.put_columns_unconditionally(as_columns(rows)) == WriteResult(written=41)
    expected = {b.key: b for b in rows}  # the later AAPL 2024-01-05 wins
    assert sorted(table.scan(), key=lambda b: b.key) == sorted(expected.values(), key=lambda b: b.key)
    [back] = table.get_bars("AAPL", start="2024-01-05", end="2024-01-05")
    assert back.close == Decimal("3")
    assert str(table.get_bars("MSFT", last=1)[0].open) == "0.30000000000000004"
    if serving.faults is not None:
        assert serving.faults.batch_sizes == [25, 16]  # at most 25 a call, as DynamoDB takes them


def test_serving_columns_retry_unprocessed_items(serving):
    faults = serving.needs_faults()
    faults.leave_unprocessed(4, times=2)
    rows = [bar(day=day) for day in days(20)]
    assert serving.table.put_columns_unconditionally(as_columns(rows)) == WriteResult(written=20, retried=8)
    assert dates(serving.table.get_bars("AAPL")) == days(20)
    assert faults.batch_sizes == [20, 4, 4]


def test_serving_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="different lengths"):
        BarColumns(["AAPL"], ["2024-01-02"], ["1"], ["1"], ["1"], [], [1], ["r"], V1)


def test_serving_throttled_writes_are_retried_and_counted(serving):
    faults = serving.needs_faults()
    faults.throttle("PutItem", code="ProvisionedThroughputExceededException")
    faults.throttle("PutItem", code="ThrottlingException")
    faults.throttle("PutItem", code="RequestLimitExceeded")
    assert serving.table.put_bars([bar(), bar(day="2024-01-03")]) == WriteResult(written=2, retried=3)
    assert serving.sleeps == [0.05, 0.1, 0.2]  # exponential, each capped by full jitter (rng=1 here)
    assert len(serving.table.get_bars("AAPL")) == 2

    faults.throttle("DeleteItem", times=2)
    assert serving.table.delete_bars([Deletion("AAPL", "2024-01-02", V1)]) == WriteResult(deleted=1, retried=2)

    faults.throttle("BatchWriteItem")  # a throttled batch: every item in it is retried
    assert serving.table.put_bars_unconditionally([bar("MSFT", day) for day in days(7)]) \
        == WriteResult(written=7, retried=7)

    faults.throttle("Query", times=2)  # reads retry too (no count: nothing was written)
    assert len(serving.table.get_bars("MSFT")) == 7


def test_serving_throttling_past_the_attempts_names_the_key(serving):
    faults = serving.needs_faults()
    table = serving.make(max_attempts=3)
    faults.throttle("PutItem", times=3, code="ThrottlingException")
    with pytest.raises(ServingUnavailable) as info:
        table.put_bars([bar("NVDA", "2024-01-05", version=V2)])
    message = str(info.value)
    assert "NVDA 2024-01-05" in message and V2 in message and "ThrottlingException" in message
    assert "after 3 attempts" in message and "\n" not in message
    assert len(serving.sleeps) == 2  # no pointless sleep after the last attempt
    # nothing half-done: the message is retried later and writes the row then
    assert table.put_bars([bar("NVDA", "2024-01-05", version=V2)]) == WriteResult(written=1)

    faults.leave_unprocessed(2, times=3)
    with pytest.raises(ServingUnavailable, match=r"2 bars still unprocessed after 3 BatchWriteItem attempts "
                                                 r"\(first: MSFT 2024-01-0\d"):
        table.put_bars_unconditionally([bar("MSFT", day) for day in days(4)])


def test_serving_totals_count_every_row_and_name_the_newest_version(serving):
    table = serving.table
    assert table.totals() == (0, None)
    table.put_bars([bar(day=f"2024-01-{d:02d}", version=V1) for d in range(2, 9)]
                     + [bar(symbol="MSFT", version=V2)])
    assert table.totals() == (8, V2)
    table.delete_bars([Deletion("MSFT", "2024-01-02", V2)])
    assert table.totals() == (7, V1)
