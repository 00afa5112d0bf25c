"""Runtime.stream: the one place that picks the stream's adapter from the lake and the
environment (a local log under the lake, Kinesis or SQS FIFO on AWS), and the settings it
refuses with a message naming them."""
from __future__ import annotations

import pytest

from glue_jobs.adapters.aws.kinesis_stream import KinesisStream
from glue_jobs.adapters.aws.sqs_fifo_stream import SqsFifoStream
from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import open_runtime


def test_a_local_lake_streams_into_its_own_sqlite_log(tmp_path):
    runtime = open_runtime(str(tmp_path / "lake"), create=True, env={"TICKERLAKE_STREAM_SHARDS": "3"})
    stream = runtime.stream
    assert isinstance(stream, SqliteStream) and stream.shard_count == 3
    assert stream.path == str(tmp_path / "lake" / "stream" / "quotes.sqlite")
    assert runtime.stream is stream  # opened once


@pytest.mark.parametrize("shards", ["0", "two", "-1"])
def test_a_bad_shard_count_is_refused_naming_the_variable(tmp_path, shards):
    with pytest.raises(ConfigError, match="TICKERLAKE_STREAM_SHARDS"):
        open_runtime(str(tmp_path), create=True, env={"TICKERLAKE_STREAM_SHARDS": shards})


def test_an_s3_lake_streams_to_the_transport_the_stack_made(aws):
    kinesis = open_runtime("s3://bucket", env={"TICKERLAKE_STREAM_NAME": "tickerlake-quotes"}).stream
    assert isinstance(kinesis, KinesisStream) and kinesis.name == "tickerlake-quotes"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/tickerlake-quotes.fifo"
    fifo = open_runtime("s3://bucket", env={"TICKERLAKE_STREAM_QUEUE_URL": url}).stream
    assert isinstance(fifo, SqsFifoStream) and fifo.name == "tickerlake-quotes.fifo"


def test_an_s3_lake_without_a_transport_or_with_both_is_refused(aws):
    with pytest.raises(ConfigError, match="TICKERLAKE_STREAM_NAME .*StreamName.* or TICKERLAKE_STREAM_QUEUE_URL"):
        open_runtime("s3://bucket", env={}).stream  # noqa: B018
    with pytest.raises(ConfigError, match="both"):
        open_runtime("s3://bucket", env={"TICKERLAKE_STREAM_NAME": "a", "TICKERLAKE_STREAM_QUEUE_URL": "b.fifo"})
