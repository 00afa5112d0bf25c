"""A DynamoDB stand-in: moto's DynamoDB, the serving table created as infra/template.yaml
creates it, plus the documented rules our code depends on that moto does not enforce, and the
faults DynamoDB produces that moto never does. Installed as botocore event handlers on a
moto-backed client, so the adapter calls the real boto3 API and meets DynamoDB's answers:

- BatchWriteItem takes 1 to 25 requests: more is a ValidationException "1 validation error
  detected: Value '{...}' at 'requestItems' failed to satisfy constraint: Map value must satisfy
  constraint: [Member must have length less than or equal to 25, Member must have length greater
  than or equal to 1]" (docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
  "There are more than 25 requests in the batch"; the wording as reported in dtan4/valec#46 and
  cashapp/backfila#447). moto writes any number.
- BatchWriteItem refuses one key twice in a call ("You try to perform multiple operations on the
  same item in the same BatchWriteItem request"): ValidationException "Provided list of item
  keys contains duplicates". moto refuses only two identical items, not two versions of a row.
- A key condition `BETWEEN :a AND :b` with :a > :b is a ValidationException "Invalid
  KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal
  to lower bound; ..." (architect/dynalite#55, ExtendDB/extenddb#99); moto answers no rows.
- Faults on demand: `throttle(operation, times, code)` answers the next calls with a throttling
  error (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded) and
  writes nothing; `leave_unprocessed(count, times)` has the next BatchWriteItem calls write all
  but their last `count` requests and return those as UnprocessedItems, as DynamoDB does under
  load.
- `calls` counts requests per operation (faulted ones included), `batch_sizes` the request
  count of every BatchWriteItem: what tests assert batching and pagination with.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

REGION = "us-east-1"
TABLE = "tickerlake-test-bars"
MAX_BATCH = 25
TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

# The table as the template declares it (keys, billing); the template test checks they agree.
SERVING_TABLE = {
    "KeySchema": [{"AttributeName": "symbol", "KeyType": "HASH"},
                  {"AttributeName": "trade_date", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": "symbol", "AttributeType": "S"},
                             {"AttributeName": "trade_date", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
TOO_MANY_REQUESTS = ("1 validation error detected: Value '{%s=[...]}' at 'requestItems' failed to satisfy constraint: "
                     "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
                     "Member must have length greater than or equal to 1]")
_BETWEEN = re.compile(r"\bBETWEEN\s+(:\w+)\s+AND\s+(:\w+)", re.IGNORECASE)


def _error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _scalar(value: dict) -> Any:
    if "N" in value:
        return Decimal(value["N"])
    return next(iter(value.values()))


@dataclass
class DynamoContract:
    """Enforces the rules above on `client` (a moto-backed boto3 DynamoDB client)."""

    client: Any
    table_name: str = TABLE
    calls: Counter = field(default_factory=Counter)
    batch_sizes: list = field(default_factory=list)
    _throttles: dict = field(default_factory=dict)
    _unprocessed: list = field(default_factory=list)

    def __post_init__(self) -> None:
        events = self.client.meta.events
        events.register("before-parameter-build.dynamodb", self._before_build)
        events.register("before-call.dynamodb", self._before_call)
        events.register("after-call.dynamodb.BatchWriteItem", self._after_batch)

    # -- what tests use ------------------------------------------------------------------------

    def create_serving_table(self) -> str:
        self.client.create_table(TableName=self.table_name, **SERVING_TABLE)
        return self.table_name

    def throttle(self, operation: str, times: int = 1, code: str = "ProvisionedThroughputExceededException") -> None:
        """The next `times` calls of `operation` (e.g. "PutItem") are throttled."""
        self._throttles.setdefault(operation, []).extend([code] * times)

    def leave_unprocessed(self, count: int, times: int = 1) -> None:
        """The next `times` BatchWriteItem calls leave their last `count` requests unprocessed."""
        self._unprocessed.extend([count] * times)

    # -- the rules and faults -----------------------------------------------------------------

    def _before_build(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        operation = model.name
        self.calls[operation] += 1
        if operation == "BatchWriteItem":
            requests = params.get("RequestItems") or {}
            for table, writes in requests.items():
                if not 1 <= len(writes) <= MAX_BATCH:
                    raise _error("ValidationException", TOO_MANY_REQUESTS % table, operation)
            if sum(map(len, requests.values())) > MAX_BATCH:
                raise _error("ValidationException", "Too many items requested for the BatchWriteItem call", operation)
            for writes in requests.values():
                keys = [tuple(sorted((name, str(value)) for name, value in
                                     (w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key")).items()
                                     if name in ("symbol", "trade_date"))) for w in writes]
                if len(set(keys)) != len(keys):
                    raise _error("ValidationException", "Provided list of item keys contains duplicates", operation)
            self.batch_sizes.append(sum(map(len, requests.values())))
            if self._unprocessed and not self._throttles.get(operation):
                self._hold_back(params, self._unprocessed.pop(0), context)
        if operation == "Query":
            between = _BETWEEN.search(params.get("KeyConditionExpression", ""))
            values = params.get("ExpressionAttributeValues") or {}
            if between and _scalar(values[between.group(1)]) > _scalar(values[between.group(2)]):
                raise _error("ValidationException", (
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or "
                    f"equal to lower bound; lower bound operand: AttributeValue: {values[between.group(1)]}, upper "
                    f"bound operand: AttributeValue: {values[between.group(2)]}"), operation)

    def _hold_back(self, params: dict, count: int, context: dict) -> None:
        """Take the last `count` requests out of the call; `_after_batch` reports them unprocessed."""
        held: dict[str, list] = {}
        kept: dict[str, list] = {}
        for table, writes in params["RequestItems"].items():
            take = min(count - sum(map(len, held.values())), len(writes))
            if take > 0:
                held[table], rest = writes[len(writes) - take:], writes[:len(writes) - take]
            else:
                rest = writes
            if rest:
                kept[table] = rest
        context["dynamodb_unprocessed"] = held
        if kept:
            params["RequestItems"] = kept
        else:  # the call must still reach no table: _before_call answers it without moto
            context["dynamodb_all_held"] = True

    def _before_call(self, model: Any, context: dict, **_: Any) -> Any:
        queued = self._throttles.get(model.name)
        if queued:
            code = queued.pop(0)
            raise _error(code, f"{code} (injected by the DynamoDB stand-in)", model.name)
        if model.name == "BatchWriteItem" and context.get("dynamodb_all_held"):
            # every request held back: DynamoDB answers with all of them unprocessed, writing none
            return AWSResponse("https://dynamodb.stand-in", 200, {}, None), {"UnprocessedItems": {}}
        return None

    def _after_batch(self, parsed: dict, context: dict, **_: Any) -> None:
        held = context.get("dynamodb_unprocessed")
        if held:
            unprocessed = parsed.setdefault("UnprocessedItems", {})
            for table, writes in held.items():
                unprocessed.setdefault(table, []).extend(writes)


@pytest.fixture
def dynamodb_contract(aws):
    """moto's DynamoDB under DynamoDB's rules, with the serving table created as the template does."""
    contract = DynamoContract(boto3.client("dynamodb", region_name=REGION))
    contract.create_serving_table()
    return contract
