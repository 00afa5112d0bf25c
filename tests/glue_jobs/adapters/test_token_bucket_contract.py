"""One contract for the token-bucket port, run on SQLite and on DynamoDB (moto): workers in
threads, each with its own connection or client as separate Lambdas would have, hammer one bucket
on a shared clock; the bucket must never grant more than the limits allow in any 60 s window or
quota day, and must not lose a grant (its count equals the grants handed out)."""
from __future__ import annotations

import datetime as dt
import threading

import boto3
import pytest

from glue_jobs.adapters.aws.token_bucket_dynamodb import DynamoTokenBucket
from glue_jobs.adapters.local.token_bucket_sqlite import SqliteTokenBucket, bucket_path
from glue_jobs.lake import token_bucket_math as tb
from glue_jobs.ports.token_bucket import BACK_OFF, DAILY_QUOTA, Limits
from tests.support.aws import REGION
from tests.support.clock import FakeClock
from tests.support.dynamodb_atomic import AtomicWrites

TABLE = "tickerlake-token-buckets"
NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture(params=["sqlite", "dynamodb"])
def open_bucket(request, tmp_path):
    """open_bucket(limits, clock) -> a new handle on the same bucket (one per worker)."""
    opened = []
    if request.param == "sqlite":
        def make(limits, clock):
            bucket = SqliteTokenBucket(bucket_path(tmp_path), "alphavantage", limits, clock=clock)
            opened.append(bucket)
            return bucket
        yield make
        for bucket in opened:
            bucket.close()
        return
    request.getfixturevalue("aws")
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "bucket", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "bucket", "AttributeType": "S"}])

    def make(limits, clock):
        # moto does not make a conditional write atomic across threads; DynamoDB does (see AtomicWrites)
        client = AtomicWrites(boto3.client("dynamodb", region_name=REGION))
        return DynamoTokenBucket(TABLE, "alphavantage", limits, client=client, clock=clock)
    yield make


def _hammer(buckets, clock, *, until: float, step: float = 0.05, max_rounds: int = 400) -> list[float]:
    """Each bucket handle in its own thread: acquire, move the shared clock a little, again."""
    grants: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(bucket):
        try:
            for _ in range(max_rounds):
                if clock.now() >= until:
                    return
                decision = bucket.acquire()
                if decision.granted:
                    with lock:
                        grants.append(decision.at)
                clock.advance(step if decision.granted else min(decision.wait_s, step))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(b,)) for b in buckets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return grants


def test_contract_concurrent_workers_never_exceed_the_per_minute_limit_in_any_window(open_bucket):
    clock = FakeClock(NOON)
    limits = Limits(calls_per_minute=10, calls_per_day=None)
    buckets = [open_bucket(limits, clock) for _ in range(6)]
    grants = _hammer(buckets, clock, until=NOON + 180, step=0.1, max_rounds=1000)
    assert tb.grants_in_window(grants, 60.0) <= 10
    spacing = tb.spacing_s(limits)
    ordered = sorted(grants)
    # epoch seconds near 1.8e9 hold about 2.4e-7 s of resolution
    assert all(b - a >= spacing - 1e-5 for a, b in zip(ordered, ordered[1:]))
    assert len(grants) >= 25  # the workers did get tokens: about 10 a minute for 3 minutes
    assert buckets[0].state().used == len(grants)  # no grant lost or counted twice


def test_contract_concurrent_workers_never_exceed_the_daily_quota(open_bucket):
    clock = FakeClock(NOON)
    limits = Limits(calls_per_minute=None, calls_per_day=12)
    buckets = [open_bucket(limits, clock) for _ in range(6)]
    grants = _hammer(buckets, clock, until=NOON + 600, step=0.001, max_rounds=30)
    assert len(grants) == 12
    refused = buckets[1].acquire()
    assert (refused.granted, refused.reason) == (False, DAILY_QUOTA)
    clock.advance(refused.wait_s + 1)  # the next UTC day
    assert buckets[2].acquire().granted


def test_contract_back_off_and_exhaust_day_hold_every_worker(open_bucket):
    clock = FakeClock(NOON)
    limits = Limits(calls_per_minute=75, calls_per_day=1000)
    first, second = open_bucket(limits, clock), open_bucket(limits, clock)
    assert first.acquire().granted
    first.back_off(60)
    held = second.acquire()
    assert (held.granted, held.reason) == (False, BACK_OFF) and held.wait_s == pytest.approx(60, abs=0.01)
    clock.advance(61)
    assert second.acquire().granted
    second.exhaust_day()
    assert first.acquire().reason == DAILY_QUOTA
    assert first.state().used == 1000


def test_contract_a_refusal_writes_nothing(open_bucket):
    clock = FakeClock(NOON)
    bucket = open_bucket(Limits(calls_per_minute=1, calls_per_day=None), clock)
    assert bucket.acquire().granted
    version = bucket.state().version
    for _ in range(5):
        assert not bucket.acquire().granted
    assert bucket.state().version == version
