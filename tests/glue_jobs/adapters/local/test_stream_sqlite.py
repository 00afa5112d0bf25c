"""The local log's own promises beyond the contract: Kinesis' shard choice, retention, the
dedup window, a fixed shard count, and durability when its writer is killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream, stream_path
from glue_jobs.ports.stream import StreamError, shard_index, shard_name
from tests.support.aws import REGION
from tests.support.clock import FakeClock

SYMBOLS = [f"S{i:03d}" for i in range(200)] + ["IBM", "AAPL", "MSFT", "BRK.B", "ÆØÅ"]


@pytest.mark.parametrize("shards", [1, 3, 4])
def test_a_symbol_goes_to_the_shard_kinesis_puts_it_in(aws, tmp_path, shards):
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="s", ShardCount=shards)
    with SqliteStream(stream_path(tmp_path, "s"), "s", shards=shards) as log:
        for symbol in SYMBOLS:
            expected = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey=symbol)["ShardId"]
            assert log.put(symbol, b"x")[0] == expected == shard_name(shard_index(symbol, shards)), symbol


def test_records_older_than_the_retention_are_trimmed_and_reading_starts_at_the_oldest_kept(tmp_path):
    clock = FakeClock()
    with SqliteStream(stream_path(tmp_path, "q"), shards=1, retention_s=3600, clock=clock.now) as log:
        shard, old = log.put("IBM", b"old")
        log.checkpoint("p", shard, old)
        clock.advance(1800)
        log.put("IBM", b"middle")
        clock.advance(1801)  # "old" is past 3600 s, "middle" is not
        log.put("IBM", b"new")
        assert [r.data for r in log.read(shard, None, 10)] == [b"middle", b"new"]
        assert log.status("p")[0].lag == 2
        clock.advance(7200)  # everything expired; sequences still never go back
        assert log.read(shard, None, 10) == []
        assert int(log.put("IBM", b"later")[1]) == 4


def test_a_dedup_id_is_honoured_for_five_minutes_like_sqs_fifo(tmp_path):
    clock = FakeClock()
    with SqliteStream(stream_path(tmp_path, "q"), shards=1, clock=clock.now) as log:
        first = log.put("IBM", b"a", dedup_id="synthetic:IBM:1")
        clock.advance(299)
        assert log.put("IBM", b"a", dedup_id="synthetic:IBM:1") == first
        clock.advance(2)
        assert log.put("IBM", b"a", dedup_id="synthetic:IBM:1") != first
        assert len(log.read(first[0], None, 10)) == 2


def test_reopening_with_another_shard_count_is_refused_naming_the_count(tmp_path):
    path = stream_path(tmp_path, "q")
    SqliteStream(path, shards=2).close()
    with pytest.raises(StreamError, match="has 2 shard"):
        SqliteStream(path, shards=4)
    with SqliteStream(path) as log:  # no count: the file's
        assert log.shard_count == 2


def test_a_checkpoint_past_the_last_record_or_on_an_unknown_shard_is_refused(tmp_path):
    with SqliteStream(stream_path(tmp_path, "q"), shards=1) as log:
        shard, seq = log.put("IBM", b"a")
        with pytest.raises(StreamError, match="past its last record"):
            log.checkpoint("p", shard, str(int(seq) + 1))
        with pytest.raises(StreamError, match="no shard"):
            log.read("shardId-000000000009", None, 1)


_WRITER = """
import sys
from glue_jobs.adapters.local.stream_sqlite import SqliteStream
log = SqliteStream(sys.argv[1], shards=2)
i = 0
while True:
    log.put("S%d" % (i % 7), str(i).encode(), dedup_id="d%d" % i)
    print(i, flush=True)  # acknowledged: committed before this line
    i += 1
"""


def test_every_acknowledged_put_survives_its_writer_being_killed(tmp_path):
    path = stream_path(tmp_path, "q")
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, path], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    acknowledged = -1
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with SqliteStream(path) as log:
        kept = sorted(int(r.data) for s in log.shards() for r in log.read(s, None, 100_000))
    assert kept[: acknowledged + 1] == list(range(acknowledged + 1))
    assert kept == list(range(len(kept)))  # no hole, no duplicate


def test_a_dedup_id_repeated_inside_one_batch_is_stored_once(tmp_path):
    with SqliteStream(stream_path(tmp_path, "q"), shards=1) as log:
        first, again, other = log.put_many([("IBM", b"a", "d1"), ("IBM", b"a", "d1"), ("IBM", b"b", "d2")])
        assert again == first and other != first
        assert [r.data for r in log.read(first[0], None, 10)] == [b"a", b"b"]
