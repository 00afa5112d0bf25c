"""`tickerlake stream replay --from TIME --lake s3://...` under moto, through main() as a user
runs it: the quotes come back from the Firehose history (Parquet under stream/quotes/dt=D/,
object names Firehose's own, a duplicate delivery included) into the DynamoDB quotes table,
with no alert sent twice (S3 sent markers) and the table's lost items served again."""
from __future__ import annotations

import base64
import io
import json
from decimal import Decimal

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.adapters.aws.quotes_dynamodb import DynamoQuotesTable
from glue_jobs.intraday.history import COLUMNS
from glue_jobs.intraday.history_replay import history_keys, replay_records
from glue_jobs.lake.quote_record import encode
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from tests.glue_jobs.intraday.quotes import NOW, OPEN_MS, quote
from tests.support.aws import BUCKET, REGION
from workflows.cli import main as cli
from workflows.entry import stream_consumer

TABLE = "tickerlake-test-quotes"
QUOTES = [quote("IBM", "101", 1), quote("IBM", "108.25", 2), quote("IBM", "0", 3, low=Decimal(0)),
          quote("MSFT", "401.5", 1, previous_close="400"), quote("MSFT", "402", 2, previous_close="400")]


def firehose_file(quotes) -> bytes:
    """What Firehose's record format conversion writes: the table's columns, prices as doubles."""
    rows = [json.loads(encode(q)) for q in quotes]
    types = {"string": pa.string(), "bigint": pa.int64(), "double": pa.float64()}
    arrays = [pa.array([float(r[c.name]) if c.type == "double" else r[c.name] for r in rows], types[c.type])
              for c in COLUMNS]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=[c.name for c in COLUMNS]), buffer, compression="snappy")
    return buffer.getvalue()


@pytest.fixture
def stack(s3, dynamodb_contract, monkeypatch, tmp_path):
    dynamodb_contract.client.create_table(TableName=TABLE, **QUOTES_KEYS)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    (tmp_path / "alerts.yml").write_text("daily_move: {percent: 5}\n")
    for name, value in {"TICKERLAKE_QUOTES_TABLE": TABLE, "TICKERLAKE_TOPIC_ARN": topic,
                        "TICKERLAKE_ALERTS_FILE": str(tmp_path / "alerts.yml"),
                        "TICKERLAKE_LAKE": f"s3://{BUCKET}"}.items():
        monkeypatch.setenv(name, value)
    # the processors' clock at the session's hour: served items expire two days after their event
    from workflows.cli import stream_consumer_commands
    from workflows.intraday import open_processor

    def at_now(runtime, **options):
        return open_processor(runtime, clock=lambda: NOW, **options)

    monkeypatch.setattr(stream_consumer_commands, "open_processor", at_now)
    monkeypatch.setattr(stream_consumer, "_processor", None)
    monkeypatch.setattr(stream_consumer, "open_processor", at_now)
    return DynamoQuotesTable(TABLE, dynamodb_contract.client), s3


def _markers(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="alerts/sent/").get("Contents", [])]


def _history(s3) -> None:
    # two Firehose objects; the second holds IBM's anomaly again (at-least-once delivery)
    s3.put_object(Bucket=BUCKET, Key="stream/quotes/dt=2026-11-30/tickerlake-quotes-1-2026-11-30-15-05-00-a",
                  Body=firehose_file(QUOTES))
    s3.put_object(Bucket=BUCKET, Key="stream/quotes/dt=2026-11-30/tickerlake-quotes-1-2026-11-30-15-10-00-b",
                  Body=firehose_file([QUOTES[1]]))
    s3.put_object(Bucket=BUCKET, Key="stream/firehose-errors/x/dt=2026-11-30/bad", Body=b"not parquet")


def test_replay_serves_what_the_table_lost_from_the_history_and_alerts_nothing_twice(stack, capsys):
    table, s3 = stack
    _history(s3)
    # the Lambda served the stream once: IBM's +8.25 % was alerted then
    event = {"Records": [{"eventSource": "aws:kinesis", "eventID": f"shardId-000000000000:{n}",
                          "kinesis": {"partitionKey": q.symbol, "sequenceNumber": str(n),
                                      "data": base64.b64encode(encode(q)).decode(),
                                      "approximateArrivalTimestamp": q.event_time_ms / 1000}}
                         for n, q in enumerate(QUOTES)]}
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    markers = _markers(s3)
    assert len(markers) == 1
    # the table loses IBM (a wrong delete, a table restored from an old backup)
    for q in table.recent("IBM", now=NOW):
        table.client.delete_item(TableName=TABLE, Key={"symbol": {"S": "IBM"}, "sk": {"S": q.sort_key}})
    table.client.delete_item(TableName=TABLE, Key={"symbol": {"S": "IBM"}, "sk": {"S": "current"}})
    assert table.recent("IBM", now=NOW) == [] and table.get_current("IBM", now=NOW) is None

    assert cli.main(["stream", "replay", "--lake", f"s3://{BUCKET}", "--from", "2026-11-30T15:00"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "5 quotes from 2 history files (6 rows)" in err
    assert "stream replay: 5 records" in err and "4 accepted, 1 rejected" in err and "0 alerts sent" in err
    assert [(q.sequence, q.price) for q in table.recent("IBM", now=NOW)] == [(1, 101), (2, 108.25)]
    current = table.get_current("IBM", now=NOW)
    assert current is not None and current.quote.sequence == 2 and current.quote.anomaly
    assert current.window == (101, 108.25)  # the moving average goes on as the stream had it
    assert _markers(s3) == markers  # no alert twice

    assert cli.main(["stream", "replay", "--lake", f"s3://{BUCKET}", "--from", "2026-11-30"]) == 0
    again = capsys.readouterr().err
    assert " 0 served, " in again and "0 alerts sent" in again and _markers(s3) == markers


def test_replay_from_a_later_time_takes_only_the_quotes_after_it(stack, capsys):
    _, s3 = stack
    _history(s3)
    later = "2026-11-30T15:01:30"  # after every quote's minute 1
    assert cli.main(["stream", "replay", "--lake", f"s3://{BUCKET}", "--from", later]) == 0
    assert "stream replay: 3 records" in capsys.readouterr().err


def test_history_keys_take_the_day_before_on_and_any_object_name():
    keys = ["stream/quotes/dt=2026-11-28/a", "stream/quotes/dt=2026-11-29/b.parquet", "stream/quotes/dt=2026-11-30/c",
            "stream/quotes/dt=2026-11-30/", "stream/quotes/x", "stream/rejected/dt=2026-11-30/d"]
    assert history_keys(keys, OPEN_MS) == ["stream/quotes/dt=2026-11-29/b.parquet", "stream/quotes/dt=2026-11-30/c"]


def test_doubles_come_back_as_the_quotes_own_decimals_and_nulls_as_missing_fields():
    rows = pq.read_table(io.BytesIO(firehose_file([quote("IBM", "101.2345", 1, previous_close="100")]))).to_pylist()
    rows.append(dict(rows[0], sequence=2, price=None))
    first, second = replay_records(rows, 0)
    assert json.loads(first.data) == json.loads(encode(quote("IBM", "101.2345", 1, previous_close="100")))
    assert "price" not in json.loads(second.data) and first.sequence == "synthetic:IBM:1"


def test_an_unreadable_history_object_is_named_and_the_replay_exits_1_after_the_rest(stack, capsys):
    table, s3 = stack
    _history(s3)
    s3.put_object(Bucket=BUCKET, Key="stream/quotes/dt=2026-11-30/tickerlake-quotes-1-broken", Body=b"PAR1 torn")
    assert cli.main(["stream", "replay", "--lake", f"s3://{BUCKET}", "--from", "2026-11-30"]) == 1
    err = capsys.readouterr().err
    assert "stream/quotes/dt=2026-11-30/tickerlake-quotes-1-broken is not a readable Parquet history file" in err
    assert "stream replay: 5 records" in err and len(table.recent("MSFT", now=NOW)) == 2
