"""The `quotes` serving table in DynamoDB: partition key `symbol`, sort key `sk` (`current`,
or `q#<event time>#<sequence>` zero-padded so key order is time order), TTL on `expires_at`.

Writes are per-item PutItem with a ConditionExpression (BatchWriteItem takes none):
recent quotes are create-only, the `current` item moves only forward in (event time,
sequence). A refused condition is a replay, counted as stale. TTL deletes expired items
within a day or two, not at once, so every read filters on `expires_at` itself. Throttling is
retried with the bars adapter's backoff (DynamoServingTable._call)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from glue_jobs.adapters.aws.serving_dynamodb import DynamoServingTable
from glue_jobs.lake.quote_items import quote_attributes, quote_from, window_from, window_text
from glue_jobs.ports.serving import CURRENT_SK, CurrentQuote, Quote, WriteResult

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_CREATE_ONLY = "attribute_not_exists(#s)"
_FORWARD = "attribute_not_exists(#s) OR #t < :t OR (#t = :t AND #q < :q)"


def _item(quote: Quote, sk: str, **extra: Any) -> dict:
    attributes = {**quote_attributes(quote), "sk": sk, **extra}
    return {name: _SERIALIZER.serialize(value) for name, value in attributes.items()}


def _plain(item: dict) -> dict:
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


class DynamoQuotesTable(DynamoServingTable):
    """The `quotes` table `table_name`; options as DynamoServingTable's (client, retries, page size)."""

    def put_quotes(self, quotes: Sequence[Quote]) -> WriteResult:
        result = WriteResult()
        for q in quotes:
            response = self._call(
                "put_item", f"PutItem of quote {q.symbol} {q.sort_key}", result, TableName=self.table_name,
                Item=_item(q, q.sort_key), ConditionExpression=_CREATE_ONLY,
                ExpressionAttributeNames={"#s": "symbol"})
            if response is None:
                result.stale += 1
            else:
                result.written += 1
        return result

    def put_current(self, currents: Sequence[CurrentQuote]) -> WriteResult:
        result = WriteResult()
        for c in currents:
            q = c.quote
            response = self._call(
                "put_item", f"PutItem of the current quote of {q.symbol}", result, TableName=self.table_name,
                Item=_item(q, CURRENT_SK, window=window_text(c)), ConditionExpression=_FORWARD,
                ExpressionAttributeNames={"#s": "symbol", "#t": "event_time_ms", "#q": "sequence"},
                ExpressionAttributeValues={":t": {"N": str(q.event_time_ms)}, ":q": {"N": str(q.sequence)}})
            if response is None:
                result.stale += 1
            else:
                result.written += 1
        return result

    def get_current(self, symbol: str, *, now: int) -> CurrentQuote | None:
        response = self._call("get_item", f"GetItem of the current quote of {symbol}", None,
                              TableName=self.table_name, ConsistentRead=True,
                              Key={"symbol": {"S": symbol}, "sk": {"S": CURRENT_SK}})
        item = (response or {}).get("Item")
        if not item:
            return None
        plain = _plain(item)
        if int(plain["expires_at"]) <= now:
            return None  # expired, TTL not yet round to deleting it
        return CurrentQuote(quote_from(plain), window_from(str(plain.get("window") or "")))

    def recent(self, symbol: str, *, now: int, last: int | None = None) -> list[Quote]:
        if last is not None and last <= 0:
            return []
        kwargs = {"TableName": self.table_name,
                  "KeyConditionExpression": "#s = :s AND begins_with(#k, :p)",
                  "FilterExpression": "#e > :now",
                  "ExpressionAttributeNames": {"#s": "symbol", "#k": "sk", "#e": "expires_at"},
                  "ExpressionAttributeValues": {":s": {"S": symbol}, ":p": {"S": "q#"}, ":now": {"N": str(now)}},
                  "ScanIndexForward": last is None}
        quotes = []
        for item in self._unfiltered_pages(kwargs):
            quotes.append(quote_from(_plain(item)))
            if last is not None and len(quotes) == last:
                break
        if last is not None:
            quotes.reverse()
        return quotes

    def _unfiltered_pages(self, kwargs: dict) -> Iterator[dict]:
        # A Limit counts items read before the filter, so pages are followed to the end
        # rather than stopped after `last` reads, as the bars' _pages would.
        return self._pages("query", f"Query of {kwargs['ExpressionAttributeValues'][':s']['S']}", kwargs)

    def purge_expired(self, *, now: int) -> int:
        return 0  # the table's TimeToLiveSpecification deletes them


