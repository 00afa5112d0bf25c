"""The token bucket in DynamoDB: one item per bucket name (partition key `bucket`), shared by
every worker Lambda. acquire() reads the item (strongly consistent), decides with
glue_jobs/lake/token_bucket_math.py and writes the new state on condition that the item's
version is still the one read (or that there is no item yet). A refused condition means another
worker took a token in between: read again and decide again, so a token is never granted twice.
A refusal (a wait) writes nothing."""
from __future__ import annotations

import math
import random
import time
from typing import Any, Callable

from glue_jobs.lake.token_bucket_ops import AtomicBucket
from glue_jobs.ports.token_bucket import BucketState, Decision, Limits

CONFLICT = "ConditionalCheckFailedException"
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
_CONDITION = "attribute_not_exists(#b) OR #v = :v"


class BucketContended(RuntimeError):
    """Too many workers wrote the bucket between our read and our write, `max_attempts` times."""


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


class DynamoTokenBucket(AtomicBucket):
    def __init__(self, table: str, name: str, limits: Limits, *, client: Any = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 max_attempts: int = 50):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table, self.name, self.limits, self.client = table, name, limits, client
        self._clock, self._sleep, self.max_attempts = clock, sleep, max_attempts

    def _read(self) -> BucketState:
        item = self.client.get_item(TableName=self.table, Key={"bucket": {"S": self.name}},
                                    ConsistentRead=True).get("Item")
        if not item:
            return BucketState()
        next_at = float(item["next_at"]["N"])
        return BucketState(next_at if next_at > -1e17 else -math.inf, item["day"]["S"], int(item["used"]["N"]),
                           item["spent"]["BOOL"], int(item["version"]["N"]))

    def _write(self, before: BucketState, after: BucketState) -> None:
        next_at = after.next_at if math.isfinite(after.next_at) else -1e18
        self.client.put_item(
            TableName=self.table,
            Item={"bucket": {"S": self.name}, "next_at": {"N": repr(next_at)}, "day": {"S": after.day},
                  "used": {"N": str(after.used)}, "spent": {"BOOL": after.spent},
                  "version": {"N": str(after.version)}},
            ConditionExpression=_CONDITION,
            ExpressionAttributeNames={"#b": "bucket", "#v": "version"},
            ExpressionAttributeValues={":v": {"N": str(before.version)}},
        )

    def _update(self, change: Callable[[BucketState, float], tuple[BucketState, Decision | None]]) -> Decision | None:
        for attempt in range(self.max_attempts):
            before = self._read()
            after, decision = change(before, self._clock())
            if after.version == before.version:
                return decision
            try:
                self._write(before, after)
                return decision
            except Exception as exc:
                code = _code(exc)
                if code not in THROTTLED and code != CONFLICT:
                    raise
                # another worker won the write: a short full-jitter pause spreads the next round
                self._sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
        raise BucketContended(f"token bucket {self.name} in {self.table}: the conditional write lost "
                              f"{self.max_attempts} times in a row; fewer concurrent workers would help")
