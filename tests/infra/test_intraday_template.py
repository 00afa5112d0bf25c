"""The intraday half of infra/template.yaml (issue 14), held to the code it deploys: the quotes
table's keys and TTL attribute as the adapters use them, the history table's columns and
location as the local consumer writes them, the event source mapping's failure handling, the
queue's visibility against the function's timeout, and the consumer role against the AWS calls
its code makes."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from cfnlint.decode import decode

from glue_jobs.adapters.aws import quotes_dynamodb
from glue_jobs.intraday import history
from glue_jobs.runtime import ENV_QUOTES_TABLE, ENV_TOPIC_ARN
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from workflows.entry import stream_consumer

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


@pytest.fixture(scope="module")
def resources() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return parsed["Resources"]


def test_the_quotes_table_is_keyed_and_expires_as_the_adapters_expect(resources):
    props = resources["QuotesTable"]["Properties"]
    assert props["KeySchema"] == QUOTES_KEYS["KeySchema"]
    assert props["AttributeDefinitions"] == QUOTES_KEYS["AttributeDefinitions"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "expires_at" in inspect.getsource(quotes_dynamodb)
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"


def test_the_history_table_is_what_the_local_consumer_writes_and_firehose_delivers(resources):
    table = resources["IntradayQuotesTable"]["Properties"]["TableInput"]
    assert table["Name"] == history.TABLE
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        (c.name, c.type) for c in history.COLUMNS]
    assert [c["Name"] for c in table["PartitionKeys"]] == [c.name for c in history.PARTITION_KEYS]
    # projected where Firehose writes the days; catalog partitions on SQS FIFO (`stream compact` switches them)
    assert table["Parameters"]["projection.enabled"] == {"Fn::If": ["UseKinesis", "true", "false"]}
    destination = resources["QuotesHistoryDelivery"]["Properties"]["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == f"{history.PREFIX}dt=!{{timestamp:yyyy-MM-dd}}/"
    assert not destination["ErrorOutputPrefix"].startswith(history.PREFIX)  # errors never read as rows
    schema = destination["DataFormatConversionConfiguration"]["SchemaConfiguration"]
    assert schema["TableName"] == history.TABLE
    assert not any(r["Type"] == "AWS::Glue::Crawler" and "stream" in str(r) for r in resources.values())


def test_the_kinesis_mapping_splits_retries_ages_out_and_reports_item_failures(resources):
    props = resources["ConsumerKinesisSource"]["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 24 * 3600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["ConsumerFailureQueue", "Arn"]}
    assert resources["ConsumerSqsSource"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_fifo_queue_outlives_six_function_timeouts_and_its_dead_letters_outlive_it(resources):
    queue = resources["QuoteQueue"]["Properties"]
    timeout = resources["ConsumerFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["FifoQueue"] is True and resources["QuoteQueueDeadLetters"]["Properties"]["FifoQueue"] is True
    dead = resources["QuoteQueueDeadLetters"]["Properties"]["MessageRetentionPeriod"]
    assert dead > queue["MessageRetentionPeriod"]


def test_the_consumer_gets_the_environment_and_the_permissions_its_code_uses(resources):
    function = resources["ConsumerFunction"]["Properties"]
    assert function["Handler"] == "workflows.entry.stream_consumer.handler"
    assert set(function["Environment"]["Variables"]) == {stream_consumer.ENV_LAKE, ENV_QUOTES_TABLE, ENV_TOPIC_ARN}
    statements = resources["ConsumerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    dynamo = next(s for s in statements if isinstance(s, dict) and s.get("Sid") == "ServeQuotes")
    calls = set(re.findall(r'_call\(\s*"(\w+)"', inspect.getsource(quotes_dynamodb)))
    calls |= {"query"}  # through DynamoServingTable._pages
    wanted = {"dynamodb:" + "".join(p.title() for p in c.split("_")) for c in calls}
    assert set(dynamo["Action"]) == wanted
    plain = [s for s in statements if isinstance(s, dict) and "Action" in s]
    actions = [a for s in plain for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in actions if "*" in a]
