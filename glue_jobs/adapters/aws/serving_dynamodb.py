"""The serving table in DynamoDB: partition key `symbol`, sort key `trade_date` (ISO text, so
key order is date order), prices as DynamoDB numbers from exact decimals.

Writes follow the port's version rule with a ConditionExpression per item (PutItem and
DeleteItem: BatchWriteItem takes no conditions); a refused condition is a stale row, not an
error. The unconditional bulk path (rebuild) uses BatchWriteItem, at most 25 requests and no
repeated key per call (DynamoDB refuses both; moto enforces only the second), and resends
UnprocessedItems. Throttling is retried here with exponential backoff and full jitter on top of
botocore's own retries, because a day's load or a rebuild on a cold on-demand table can
outlast those; past `max_attempts` the error names the key, so the message is retried later
rather than half-applied in silence."""
from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Callable

from boto3.dynamodb.types import TypeSerializer

from glue_jobs.ports.serving import BATCH_LIMIT, Bar, BarColumns, Deletion, ServingUnavailable, WriteResult

THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
STALE = "ConditionalCheckFailedException"

# Expressions name attributes through placeholders (#s, #d, #v): it keeps us clear of
# DynamoDB's reserved words without having to know which of ours are among them.
# No row for the key, or an older version: written. Same or newer: refused (stale).
_PUT_CONDITION = "attribute_not_exists(#s) OR #v < :v"
# A deletion removes what it or an older version wrote, never what a newer one wrote.
_DELETE_CONDITION = "attribute_not_exists(#s) OR #v <= :v"


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _key(symbol: str, trade_date: str) -> dict:
    return {"symbol": {"S": symbol}, "trade_date": {"S": trade_date}}


_SERIALIZER = TypeSerializer()


def _number(value: Any) -> dict:
    # Only Decimal and int: a float would already have lost the exact value. boto3's
    # TypeSerializer refuses floats too, and numbers DynamoDB cannot hold exactly (more than
    # 38 significant digits, NaN, Infinity), which moto would store.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"serving-table numbers must be Decimal or int, not {type(value).__name__}: {value!r}")
    try:
        return _SERIALIZER.serialize(value)
    except Exception as exc:  # decimal.Inexact / Rounded, or TypeError for NaN and Infinity
        raise ValueError(f"DynamoDB cannot store {value} exactly (at most 38 significant digits, finite)") from exc


def bar_item(bar: Bar) -> dict:
    """A Bar as a DynamoDB item (attribute-value form)."""
    return {
        **_key(bar.symbol, bar.trade_date),
        "open": _number(bar.open), "high": _number(bar.high), "low": _number(bar.low),
        "close": _number(bar.close), "volume": _number(int(bar.volume)),
        "ingest_run_id": {"S": bar.ingest_run_id}, "version": {"S": bar.version},
    }


def item_bytes(item: dict) -> int:
    """An item's size as DynamoDB bills it: per attribute, its name's UTF-8 bytes plus the
    value's (a string's UTF-8 bytes; a number's 1 byte per two significant digits, plus 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            digits = Decimal(value["N"]).normalize().as_tuple().digits
            size += -(-len(digits) // 2) + 1
        else:
            raise ValueError(f"no size rule for attribute {name} of type {next(iter(value))}")
    return size


def write_units(bar: Bar) -> int:
    """Write request units one put of `bar` costs: 1 per started kilobyte of the item. A write
    refused by its condition is billed the same."""
    return -(-item_bytes(bar_item(bar)) // 1024)


def item_bar(item: dict) -> Bar:
    """A DynamoDB item back to a Bar; numbers come back as exact decimal text."""
    return Bar(
        symbol=item["symbol"]["S"], trade_date=item["trade_date"]["S"],
        open=Decimal(item["open"]["N"]), high=Decimal(item["high"]["N"]), low=Decimal(item["low"]["N"]),
        close=Decimal(item["close"]["N"]), volume=int(item["volume"]["N"]),
        ingest_run_id=item["ingest_run_id"]["S"], version=item["version"]["S"],
    )


def unique_batches(bars: Iterable[Bar], size: int = BATCH_LIMIT) -> Iterator[list[Bar]]:
    """`bars` in order, in lists of at most `size` with no key twice in a list (BatchWriteItem
    refuses a repeated key). A repeat closes the current list, so the later bar is written
    after the earlier one and wins, as the port promises."""
    batch: list[Bar] = []
    keys: set[tuple[str, str]] = set()
    for bar in bars:
        if bar.key in keys or len(batch) == size:
            yield batch
            batch, keys = [], set()
        batch.append(bar)
        keys.add(bar.key)
    if batch:
        yield batch


class DynamoServingTable:
    """The `bars` serving table in DynamoDB table `table_name`. `client` is a boto3 DynamoDB
    client (tests pass a moto-backed one; by default one is made from the environment).
    `sleep` and `rng` are injectable so tests see the backoff without waiting; `page_size`
    sets Limit on Query and Scan (tests use it to paginate without 1 MB of data)."""

    def __init__(self, table_name: str, client: Any = None, *, max_attempts: int = 8,
                 base_delay: float = 0.05, max_delay: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                 page_size: int | None = None):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.table_name = table_name
        self.client = client
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.rng = rng
        self.page_size = page_size

    # -- retries --------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> None:
        # full jitter: a fleet of throttled loaders does not come back in step
        self.sleep(self.rng() * min(self.max_delay, self.base_delay * (2 ** attempt)))

    def _missing_table(self, exc: Exception) -> ServingUnavailable:
        return ServingUnavailable(f"DynamoDB table {self.table_name!r} not found (is TICKERLAKE_SERVING_TABLE "
                                  f"the stack's ServingTableName, in this account and region?)")

    def _call(self, operation: str, what: str, result: WriteResult | None, *, items: int = 1,
              **kwargs: Any) -> dict | None:
        """One request (of `items` items), retried while throttled. None when its condition was refused."""
        method = getattr(self.client, operation)
        for attempt in range(self.max_attempts):
            try:
                return method(**kwargs)
            except Exception as exc:  # botocore's ClientError; its class lives in the client
                code = _code(exc)
                if code == STALE:
                    return None
                if code == "ResourceNotFoundException":
                    raise self._missing_table(exc) from exc
                if code not in THROTTLED:
                    raise
                if attempt + 1 == self.max_attempts:
                    raise ServingUnavailable(
                        f"DynamoDB table {self.table_name!r}: {what} still throttled ({code}) after "
                        f"{self.max_attempts} attempts") from exc
                if result is not None:
                    result.retried += items
                self._backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writes ---------------------------------------------------------------------------------

    def put_bars(self, bars: Sequence[Bar]) -> WriteResult:
        result = WriteResult()
        for bar in bars:
            response = self._call(
                "put_item", f"PutItem of {bar.symbol} {bar.trade_date} (version {bar.version})", result,
                TableName=self.table_name, Item=bar_item(bar), ConditionExpression=_PUT_CONDITION,
                ExpressionAttributeNames={"#s": "symbol", "#v": "version"},
                ExpressionAttributeValues={":v": {"S": bar.version}})
            if response is None:
                result.stale += 1
            else:
                result.written += 1
        return result

    def delete_bars(self, deletions: Sequence[Deletion]) -> WriteResult:
        result = WriteResult()
        for deletion in deletions:
            response = self._call(
                "delete_item", f"DeleteItem of {deletion.symbol} {deletion.trade_date} (version {deletion.version})",
                result, TableName=self.table_name, Key=_key(deletion.symbol, deletion.trade_date),
                ConditionExpression=_DELETE_CONDITION, ExpressionAttributeNames={"#s": "symbol", "#v": "version"},
                ExpressionAttributeValues={":v": {"S": deletion.version}}, ReturnValues="ALL_OLD")
            if response is None:
                result.stale += 1
            elif response.get("Attributes"):  # a key already gone is neither deleted nor stale
                result.deleted += 1
        return result

    def put_bars_unconditionally(self, bars: Iterable[Bar]) -> WriteResult:
        result = WriteResult()
        for batch in unique_batches(bars):
            self._batch_write(batch, result)
            result.written += len(batch)
        return result

    def put_columns_unconditionally(self, columns: BarColumns) -> WriteResult:
        # Bars again, a batch at a time: the same items, checks (exact, finite, 38 digits),
        # 25-item batches and retries as put_bars_unconditionally; the network, not the Bar,
        # is what a DynamoDB rebuild waits on.
        # Streamed: a partition's million Bars are never held at once.
        return self.put_bars_unconditionally(columns.bars())

    def _batch_write(self, batch: list[Bar], result: WriteResult) -> None:
        pending = {self.table_name: [{"PutRequest": {"Item": bar_item(bar)}} for bar in batch]}
        first = batch[0]
        what = f"BatchWriteItem of {len(batch)} bars from {first.symbol} {first.trade_date}"
        for attempt in range(self.max_attempts):
            response = self._call("batch_write_item", what, result, items=sum(map(len, pending.values())),
                                  RequestItems=pending)
            pending = {table: requests for table, requests in ((response or {}).get("UnprocessedItems") or {}).items()
                       if requests}
            if not pending:
                return
            left = pending.get(self.table_name, [])
            if attempt + 1 == self.max_attempts:
                keys = ", ".join(f"{r['PutRequest']['Item']['symbol']['S']} {r['PutRequest']['Item']['trade_date']['S']}"
                                 for r in left[:3])
                raise ServingUnavailable(
                    f"DynamoDB table {self.table_name!r}: {len(left)} bars still unprocessed after "
                    f"{self.max_attempts} BatchWriteItem attempts (first: {keys})")
            result.retried += len(left)
            self._backoff(attempt)

    # -- reads ----------------------------------------------------------------------------------

    def _pages(self, operation: str, what: str, kwargs: dict, want: int | None = None) -> Iterator[dict]:
        """Items of a Query or Scan across pages (LastEvaluatedKey), at most `want` of them."""
        seen = 0
        while True:
            limit = self.page_size
            if want is not None:
                limit = min(limit or want, want - seen)
            page = self._call(operation, what, None, **kwargs, **({"Limit": limit} if limit else {}))
            assert page is not None  # reads carry no condition
            for item in page.get("Items", []):
                seen += 1
                yield item
            start = page.get("LastEvaluatedKey")
            if not start or (want is not None and seen >= want):
                return
            kwargs = {**kwargs, "ExclusiveStartKey": start}

    def get_bars(self, symbol: str, *, start: str | None = None, end: str | None = None,
                 last: int | None = None) -> list[Bar]:
        if last is not None and last <= 0:
            return []
        if start is not None and end is not None and start > end:
            return []  # DynamoDB refuses a BETWEEN whose bounds are reversed; the range is empty
        condition = "#s = :s"
        values: dict[str, Any] = {":s": {"S": symbol}}
        if start is not None and end is not None:
            condition += " AND #d BETWEEN :a AND :b"
            values.update({":a": {"S": start}, ":b": {"S": end}})
        elif start is not None:
            condition += " AND #d >= :a"
            values[":a"] = {"S": start}
        elif end is not None:
            condition += " AND #d <= :b"
            values[":b"] = {"S": end}
        names = {"#s": "symbol", **({"#d": "trade_date"} if ":a" in values or ":b" in values else {})}
        # `last`: newest first, stop after `last`, then back to date order
        kwargs = {"TableName": self.table_name, "KeyConditionExpression": condition,
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                  "ScanIndexForward": last is None}
        bars = [item_bar(item) for item in self._pages("query", f"Query of {symbol}", kwargs, want=last)]
        if last is not None:
            bars.reverse()
        return bars

    def scan(self) -> Iterator[Bar]:
        for item in self._pages("scan", "Scan", {"TableName": self.table_name}):
            yield item_bar(item)

    def symbols(self) -> list[str]:
        # A Scan reads every row (read units for the whole table): fine for verify and the
        # CLI; an application wanting this often would keep a symbols item instead.
        kwargs = {"TableName": self.table_name, "ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "symbol"}}
        return sorted({item["symbol"]["S"] for item in self._pages("scan", "Scan of symbols", kwargs)})

    def make_durable(self) -> None:
        """Nothing to wait for: DynamoDB acknowledges a write once it is stored durably."""

    def totals(self) -> tuple[int, str | None]:
        # A Scan of the version attribute only: read units for the whole table, no item decoded.
        kwargs = {"TableName": self.table_name, "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "version"}}
        rows, newest = 0, None
        for item in self._pages("scan", "Scan of versions", kwargs):
            rows += 1
            version = item["version"]["S"]
            newest = version if newest is None or version > newest else newest
        return rows, newest
