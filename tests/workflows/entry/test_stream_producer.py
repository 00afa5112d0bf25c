"""The scheduled producer Lambda as the stack configures it, under moto (S3, Secrets Manager,
Kinesis) against the fake Alpha Vantage on a hand-moved clock: each minute's invocation makes
exactly that minute's calls of the schedule (a late start included), the next one continues
it, a holiday costs no call, and the key never reaches a log or the lake."""
from __future__ import annotations

import datetime as dt
import logging

import boto3
import pytest

from glue_jobs.adapters.aws.kinesis_stream import KinesisStream
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.quote_record import decode
from glue_jobs.runtime import open_runtime
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.aws import BUCKET, REGION
from tests.support.clock import FakeClock
from workflows.entry import stream_producer

KEY = "PRODUCERKEY12345"
SYMBOLS = [f"S{i:02d}" for i in range(15)]


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture
def deployed(s3):
    clear_cache()
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="tickerlake/alphavantage", SecretString=KEY)["ARN"]
    boto3.client("kinesis", region_name=REGION).create_stream(StreamName="tickerlake-quotes", ShardCount=2)
    clock = FakeClock(at("2026-11-20 15:00:05"))  # 5 s late into a minute of Friday's session
    server = FakeAlphaVantage(api_key=KEY, as_of=dt.date(2026, 11, 20), per_minute=75, clock=clock.now).start()
    env = {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_STREAM_NAME": "tickerlake-quotes",
           "TICKERLAKE_WATCHLIST": ",".join(SYMBOLS), "TICKERLAKE_CALLS_PER_MINUTE": "75",
           "TICKERLAKE_CALLS_PER_DAY": "100000", "ALPHAVANTAGE_SECRET_ID": secret,
           "ALPHAVANTAGE_BASE_URL": server.base_url, "AWS_DEFAULT_REGION": REGION}
    yield server, clock, env
    server.stop()
    clear_cache()


def invoke(env, clock):
    runtime = open_runtime(env["TICKERLAKE_LAKE"], env=env)
    return stream_producer.handler({}, None, runtime=runtime, env=env, clock=clock.now, sleep=clock.sleep)


def stream_quotes():
    stream = KinesisStream("tickerlake-quotes", client=boto3.client("kinesis", region_name=REGION))
    return [decode(r.data) for s in stream.shards() for r in stream.read(s, None, 10_000)]


def test_each_minute_makes_its_own_calls_and_the_next_continues_the_schedule(deployed, caplog):
    server, clock, env = deployed
    caplog.set_level(logging.DEBUG)
    first = invoke(env, clock)
    assert first["open"] and first["put"] == 75 and server.limit_bodies == 0  # due 15:00:10-15:01:09.9
    clock.advance(at("2026-11-20 15:01:02") - clock.now())
    second = invoke(env, clock)
    assert second["put"] == 75 and server.limit_bodies == 0
    quotes = stream_quotes()
    assert len(quotes) == 150 and len({(q.symbol, q.sequence) for q in quotes}) == 150  # no call made twice
    assert KEY not in caplog.text
    objects = s3_bytes()
    assert all(KEY.encode() not in body for body in objects.values())


def s3_bytes() -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


def test_a_holiday_costs_no_call(deployed):
    server, clock, env = deployed
    clock.advance(at("2026-11-26 15:00:00") - clock.now())  # Thanksgiving
    assert invoke(env, clock)["open"] is False
    assert server.calls == [] and stream_quotes() == []


def test_a_daily_cap_body_is_kept_with_the_key_masked_and_ends_the_minute(deployed):
    server, clock, env = deployed
    server.daily_limit = 3
    result = invoke(env, clock)
    assert result["put"] == 3 and result["stopped"] == "daily quota spent"
    kept = {k: v for k, v in s3_bytes().items() if k.startswith("rejected/quotes/")}
    assert len(kept) == 2 and all(KEY.encode() not in body for body in kept.values())
    assert any(b"***" in body for body in kept.values())


def test_a_missing_watchlist_fails_the_invocation_naming_the_variable(deployed):
    _, clock, env = deployed
    with pytest.raises(ConfigError, match="TICKERLAKE_WATCHLIST is empty"):
        invoke({**env, "TICKERLAKE_WATCHLIST": ""}, clock)
