"""The serving half of infra/template.yaml (issue 13): the DynamoDB table `bars`, the event path
publish -> S3 -> EventBridge -> SQS (+ dead letters) -> loader Lambda, the IAM-only HTTP reader,
their least-privilege roles and their alarms. Tested for what they do: the rule's pattern and the
queues run on moto, the roles are evaluated with tests/support/iam_policy.py, the alarms'
comparisons are applied to values, the timeouts' ratio is computed from the template."""
from __future__ import annotations

import importlib.util
import json
import urllib.parse
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import decode

from glue_jobs.lake import layout
from glue_jobs.lake.context import new_run_id
from glue_jobs.ports import serving
from tests.support.iam_policy import ACCOUNT, REGION, Names, RolePolicies, resolve
from workflows import graph

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
STACK = "tickerlake"
BUCKET = "tickerlake-test-lake"
NAMES = Names(stack=STACK, bucket=BUCKET)
LAKE = f"arn:aws:s3:::{BUCKET}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES.serving_table}"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-ServeQueue"
KEY_ARN = NAMES.table()["DataKey.Arn"]
VIA_DYNAMODB = {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}


@pytest.fixture(scope="module")
def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return parsed


@pytest.fixture(scope="module")
def policies(template) -> RolePolicies:
    return RolePolicies.from_template(NAMES, template)


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def target(value) -> str:
    """The logical id a !Ref or !GetAtt points at."""
    if "Fn::GetAtt" in value:
        got = value["Fn::GetAtt"]
        return got[0] if isinstance(got, list) else got.split(".")[0]
    assert set(value) == {"Ref"}, value
    return value["Ref"]


def published_manifest_key(run_id: str) -> str:
    # The layout's function once the lead's layout change lands; the shared decision's key until then.
    made = getattr(layout, "published_manifest_key", None)
    return made(run_id) if made else f"{layout.PUBLISHED_MARKER_PREFIX}{run_id}.json"


def loader_of_queue(template: dict, queue: str) -> tuple[str, dict]:
    (mapping,) = [m["Properties"] for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
                  if target(m["Properties"]["EventSourceArn"]) == queue]
    return target(mapping["FunctionName"]), mapping


def serve_rule(template: dict) -> tuple[str, dict]:
    (found,) = [(name, r) for name, r in of_type(template, "AWS::Events::Rule").items()
                if r.get("Metadata", {}).get("tickerlake", {}).get("stage") == "serve"]
    return found


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def test_the_serving_table_is_keyed_as_the_port_says_on_demand_recoverable_and_under_the_stacks_key(template):
    name, table = "ServingTable", of_type(template, "AWS::DynamoDB::Table")["ServingTable"]
    props = table["Properties"]
    keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
    assert keys == {"HASH": "symbol", "RANGE": "trade_date"}
    # the port's Bar.key is (symbol, trade_date): the same attributes, as strings (ISO dates sort as text)
    assert serving.Bar("S", "2024-01-02", *[0] * 4, 0, "r", "v").key == ("S", "2024-01-02")
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        "symbol": "S", "trade_date": "S"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    sse = props["SSESpecification"]
    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS" and target(sse["KMSMasterKeyId"]) == "DataKey"
    (output,) = [o for o in template["Outputs"].values() if o["Value"] == {"Ref": name}]
    assert output is template["Outputs"]["ServingTableName"]
    for function in ("ServeLoaderFunction", "ServeReaderFunction"):
        env = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert target(env["TICKERLAKE_SERVING_TABLE"]) == name, function


# ---------------------------------------------------------------------------------------------
# The event path, run on moto: the rule's pattern, the queue and its dead letters as deployed
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def event_path(aws, template):
    """The template's bucket notification, rule, queue and dead-letter queue created on moto
    with the template's own settings (pattern, visibility, redrive)."""
    s3 = boto3.client("s3", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    res = template["Resources"]
    s3.create_bucket(Bucket=BUCKET)
    if res["LakeBucket"]["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]:
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}})

    def make_queue(logical: str, extra: dict) -> tuple[str, str]:
        props = res[logical]["Properties"]
        attributes = {k: str(props[k]) for k in ("MessageRetentionPeriod", "VisibilityTimeout") if k in props}
        url = sqs.create_queue(QueueName=f"{STACK}-{logical}", Attributes={**attributes, **extra})["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    rule_name, rule = serve_rule(template)
    (rule_target,) = rule["Properties"]["Targets"]
    queue = target(rule_target["Arn"])
    redrive = res[queue]["Properties"]["RedrivePolicy"]
    dlq_url, dlq_arn = make_queue(target(redrive["deadLetterTargetArn"]), {})
    url, arn = make_queue(queue, {"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(redrive["maxReceiveCount"])})})
    pattern = resolve(rule["Properties"]["EventPattern"], NAMES.table())
    events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule_name, Targets=[{"Id": rule_target["Id"], "Arn": arn}])

    class Path:
        def put(self, key: str) -> None:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")

        def receive(self, queue_url: str = url, visibility: int = 0) -> list[dict]:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=visibility)
            return got.get("Messages", [])

        def keys(self, queue_url: str = url) -> list[str]:
            return sorted(urllib.parse.unquote_plus(json.loads(m["Body"])["detail"]["object"]["key"])
                          for m in self.receive(queue_url))

    path = Path()
    path.url, path.dlq_url, path.pattern = url, dlq_url, pattern
    return path


def test_a_published_manifest_reaches_the_loaders_queue_and_nothing_else_of_the_lake_does(event_path):
    run_id, rollback_id = new_run_id(), new_run_id()
    event_path.put(published_manifest_key(run_id))
    event_path.put(published_manifest_key(rollback_id))  # a rollback writes one too
    # the ingest runs' published markers share the prefix but are not switches
    event_path.put(layout.published_marker_key("2026-11-20", run_id))
    event_path.put(layout.raw_key("2026-11-20", "AAPL", run_id))
    event_path.put(layout.manifest_key("2026-11-20", run_id))
    event_path.put(f"warehouse/daily_prices/trade_year=2026/v={run_id}/part-0.parquet")
    assert event_path.keys() == sorted([published_manifest_key(run_id), published_manifest_key(rollback_id)])


def test_the_rules_pattern_also_matches_the_url_encoded_key_s3_may_send(template):
    from moto.events.models import EventPattern

    _, rule = serve_rule(template)
    pattern = EventPattern.load(json.dumps(resolve(rule["Properties"]["EventPattern"], NAMES.table())))
    run_id = new_run_id()

    def event(key: str) -> dict:
        return {"source": "aws.s3", "detail-type": "Object Created",
                "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}

    for key in (published_manifest_key(run_id), urllib.parse.quote_plus(published_manifest_key(run_id), safe="/")):
        assert pattern.matches_event(event(key)), key
    marker = layout.published_marker_key("2026-11-20", run_id)
    for key in (marker, urllib.parse.quote_plus(marker, safe="/")):
        assert not pattern.matches_event(event(key)), key
    assert not pattern.matches_event({**event(published_manifest_key(run_id)),
                                      "detail": {"bucket": {"name": "someone-elses-bucket"},
                                                 "object": {"key": published_manifest_key(run_id)}}})


def test_a_manifest_the_loader_fails_five_times_moves_to_the_dead_letter_queue(event_path):
    event_path.put(published_manifest_key(new_run_id()))
    for attempt in range(5):  # five receives, never deleted: the loader failed it each time
        assert len(event_path.receive()) == 1, f"receive {attempt + 1}"
    assert event_path.receive() == []
    (dead,) = event_path.receive(event_path.dlq_url)
    assert json.loads(dead["Body"])["detail"]["object"]["key"].startswith(layout.PUBLISHED_MARKER_PREFIX)


def test_dead_letters_outlive_the_source_queue_and_both_queues_use_the_stacks_key(template):
    res = template["Resources"]
    _, rule = serve_rule(template)
    queue = target(rule["Properties"]["Targets"][0]["Arn"])
    redrive = res[queue]["Properties"]["RedrivePolicy"]
    dlq = target(redrive["deadLetterTargetArn"])
    assert int(redrive["maxReceiveCount"]) == 5
    # expiry counts from the first enqueue, so a DLQ with the source's retention could drop a
    # dead letter as it arrives
    source_days = int(res[queue]["Properties"]["MessageRetentionPeriod"]) / 86400
    dlq_days = int(res[dlq]["Properties"]["MessageRetentionPeriod"]) / 86400
    assert dlq_days > source_days, (source_days, dlq_days)
    assert dlq_days >= source_days + 7, "a week to notice and redrive"
    for name in (queue, dlq):
        assert target(res[name]["Properties"]["KmsMasterKeyId"]) == "DataKey", name
    # what EventBridge cannot deliver is kept in the same dead-letter queue
    rule_target = rule["Properties"]["Targets"][0]
    assert target(rule_target["DeadLetterConfig"]["Arn"]) == dlq
    assert rule_target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_the_queue_hides_a_message_for_at_least_six_loader_timeouts(template):
    res = template["Resources"]
    _, rule = serve_rule(template)
    queue = target(rule["Properties"]["Targets"][0]["Arn"])
    function, _ = loader_of_queue(template, queue)
    timeout = int(res[function]["Properties"]["Timeout"])
    visibility = int(res[queue]["Properties"].get("VisibilityTimeout", 30))  # SQS's default is 30 s
    assert visibility >= 6 * timeout, f"{queue} VisibilityTimeout {visibility} < 6 x {function} Timeout {timeout}"
    # the oldest-message alarm must not fire on a message that is only between two retries
    (age,) = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
              and target(a["Properties"]["Dimensions"][0]["Value"]) == queue]  # each queue has its own
    assert age["Threshold"] >= visibility


def test_the_loader_reports_partial_batch_failures_in_batches_lambda_accepts(template):
    _, rule = serve_rule(template)
    function, mapping = loader_of_queue(template, target(rule["Properties"]["Targets"][0]["Arn"]))
    assert function == "ServeLoaderFunction"
    # without it Lambda ignores batchItemFailures and retries every message of a failed batch
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    batch, window = mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]
    # an SQS mapping takes up to 10 without a window, up to 10,000 with one; the window is at most 300 s
    assert 1 <= batch <= (10_000 if window else 10) and 0 <= window <= 300
    assert mapping.get("Enabled", True) is True
    assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2  # Lambda's minimum


def test_the_bucket_does_not_depend_on_what_its_events_reach(template):
    """S3 notifications that name a queue need the queue's policy first, and the queue's policy
    names the bucket: the circular dependency EventBridge notifications avoid."""
    res = template["Resources"]
    notification = res["LakeBucket"]["Properties"]["NotificationConfiguration"]
    assert set(notification) == {"EventBridgeConfiguration"}
    assert notification["EventBridgeConfiguration"]["EventBridgeEnabled"] is True

    def deps(name: str) -> set[str]:
        found: set[str] = set()

        def walk(value):
            if isinstance(value, dict):
                for k, v in value.items():
                    if k == "Ref" and isinstance(v, str) and v in res:
                        found.add(v)
                    elif k == "Fn::GetAtt":
                        found.add(v[0] if isinstance(v, list) else v.split(".")[0])
                    elif k == "Fn::Sub":
                        text = v[0] if isinstance(v, list) else v
                        found.update(ref.split(".")[0] for ref in _subs(text) if ref.split(".")[0] in res)
                        walk(v[1] if isinstance(v, list) else None)
                    else:
                        walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(res[name].get("Properties", {}))
        depends = res[name].get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)
        return found

    reached, todo = set(), ["LakeBucket"]
    while todo:
        for dep in deps(todo.pop()) - reached:
            reached.add(dep)
            todo.append(dep)
    serving_side = {"ServeQueue", "ServeQueuePolicy", "ServeDeadLetterQueue", "PublishedManifestRule",
                    "ServeLoaderFunction", "ServeLoaderEventSource", "ServingTable"}
    assert not reached & serving_side, sorted(reached & serving_side)
    assert "LakeBucket" not in reached


def _subs(text: str) -> list[str]:
    import re

    return [m for m in re.findall(r"\$\{([^}!]+)\}", text) if not m.startswith("AWS::")]


def test_only_the_published_manifest_rule_may_send_to_the_serving_queues(template):
    res = template["Resources"]
    rule_name, _ = serve_rule(template)
    guarded = {}
    for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
        for queue in policy["Properties"]["Queues"]:
            guarded[target(queue)] = policy["Properties"]["PolicyDocument"]["Statement"]
    for queue in ("ServeQueue", "ServeDeadLetterQueue"):
        statements = guarded[queue]
        allows = [st for st in statements if st["Effect"] == "Allow"]
        assert allows, queue
        for st in allows:
            assert st["Principal"] == {"Service": "events.amazonaws.com"}, (queue, st)
            assert st["Action"] in ("sqs:SendMessage", ["sqs:SendMessage"]), (queue, st)
            assert target(st["Resource"]) == queue
            assert [target(a) for a in [st["Condition"]["ArnEquals"]["aws:SourceArn"]]] == [rule_name], (queue, st)
        # and nobody talks to it in clear text
        assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for st in statements), queue
    assert "ServeQueue" in res and "ServeDeadLetterQueue" in res


# ---------------------------------------------------------------------------------------------
# The roles: what the loader and the reader may do, and nothing more
# ---------------------------------------------------------------------------------------------

LOADER_ACTIONS = {
    "logs:CreateLogStream", "logs:PutLogEvents",
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage",
    "s3:ListBucket", "s3:GetObject",
    "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query",
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey",
}
READER_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:Query", "kms:Decrypt", "kms:DescribeKey"}


@pytest.mark.parametrize("role, expected", [("ServeLoaderRole", LOADER_ACTIONS), ("ServeReaderRole", READER_ACTIONS)])
def test_a_serving_role_grants_exactly_the_actions_its_function_needs(policies, role, expected):
    granted = {a for st in policies.statements[role] if st.effect == "Allow" for a in st.actions}
    assert granted == expected, f"extra: {sorted(granted - expected)}; missing: {sorted(expected - granted)}"
    for st in policies.statements[role]:
        assert "*" not in st.resources, f"{role}/{st.sid} on every resource"


def test_the_loader_may_make_the_calls_the_event_path_implies(policies):
    """The calls the design implies, including the event source mapping's own (which no handler
    run records): consume its queue, read a manifest and its partitions, write the table. The
    recorded runs below (adapter, loader handler, HTTP handler) check what the code really calls."""
    run_id = new_run_id()
    allowed = [
        ("sqs:ReceiveMessage", QUEUE_ARN, {}), ("sqs:DeleteMessage", QUEUE_ARN, {}),
        ("sqs:GetQueueAttributes", QUEUE_ARN, {}),
        ("s3:GetObject", f"{LAKE}/{published_manifest_key(run_id)}", {}),
        ("s3:GetObject", f"{LAKE}/warehouse/daily_prices/trade_year=2026/v={run_id}/part-0.parquet", {}),
        ("s3:GetObject", f"{LAKE}/warehouse/daily_prices/trade_year=2026/v={run_id}/_manifest.json", {}),
        ("s3:ListBucket", LAKE, {"s3:prefix": "warehouse/daily_prices/trade_year=2026/"}),
        ("dynamodb:PutItem", TABLE_ARN, {}), ("dynamodb:DeleteItem", TABLE_ARN, {}),
        ("dynamodb:BatchWriteItem", TABLE_ARN, {}), ("dynamodb:Query", TABLE_ARN, {}),
        ("kms:Decrypt", KEY_ARN, {}),  # S3 objects and SQS messages under the stack's key
        ("kms:GenerateDataKey", KEY_ARN, VIA_DYNAMODB), ("kms:Encrypt", KEY_ARN, VIA_DYNAMODB),
        ("logs:PutLogEvents", NAMES.table()["ServeLoaderLogGroup.Arn"].replace(":*", ":log-stream:x"), {}),
    ]
    for action, resource, context in allowed:
        assert policies.allows("ServeLoaderRole", action, resource, context), f"{action} on {resource}"


@pytest.mark.parametrize("action, resource, context", [
    # the raw zone, the quarantine and the ledger are not the published table
    ("s3:GetObject", f"{LAKE}/raw/daily/ingest_date=2026-11-20/symbol=AAPL/run_id=R/body.csv", {}),
    ("s3:GetObject", f"{LAKE}/warehouse/daily_prices_quarantine/trade_year=2026/v=R/part-0.parquet", {}),
    ("s3:GetObject", f"{LAKE}/warehouse/pipeline_runs/run_id=R/part-0.parquet", {}),
    ("s3:PutObject", f"{LAKE}/manifests/published/20261120T220001Z-abc123.json", {}),
    ("s3:DeleteObject", f"{LAKE}/warehouse/daily_prices/trade_year=2026/v=R/part-0.parquet", {}),
    # another table, or the table's definition
    ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other", {}),
    ("dynamodb:Scan", TABLE_ARN, {}), ("dynamodb:DeleteTable", TABLE_ARN, {}), ("dynamodb:UpdateTable", TABLE_ARN, {}),
    # another queue, or sending anywhere but its own queue (slices)
    ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-IngestDeadLetterQueue", {}),
    ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-ServeDeadLetterQueue", {}),
    ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-DropQueue", {}),
    # the key outside DynamoDB: encrypting arbitrary data
    ("kms:Encrypt", KEY_ARN, {}), ("kms:GenerateDataKey", KEY_ARN, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}),
])
def test_the_loader_may_not_reach_beyond_the_event_path(policies, action, resource, context):
    assert not policies.allows("ServeLoaderRole", action, resource, context)


def test_the_reader_may_only_query_the_serving_table(policies):
    assert policies.allows("ServeReaderRole", "dynamodb:Query", TABLE_ARN)
    assert policies.allows("ServeReaderRole", "kms:Decrypt", KEY_ARN, VIA_DYNAMODB)
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan",
                   "dynamodb:UpdateItem", "dynamodb:GetItem"):
        assert not policies.allows("ServeReaderRole", action, TABLE_ARN), action
    assert not policies.allows("ServeReaderRole", "kms:Decrypt", KEY_ARN)  # only through DynamoDB
    assert not policies.allows("ServeReaderRole", "s3:GetObject", f"{LAKE}/warehouse/daily_prices/x.parquet")


def test_publish_may_write_the_manifest_that_feeds_the_serving_table(policies):
    key = f"{LAKE}/{published_manifest_key(new_run_id())}"
    assert policies.allows("PublishRole", "s3:PutObject", key)
    assert policies.allows("ServeLoaderRole", "s3:GetObject", key)


def test_the_serving_roles_allow_every_call_the_dynamodb_adapter_makes(aws):
    """Recorded on moto: the loader's writes and the reader's reads through the AWS adapter."""
    adapter = pytest.importorskip("glue_jobs.adapters.aws.serving_dynamodb",
                                  reason="the DynamoDB adapter lands with the serve-dynamo branch")
    from decimal import Decimal

    from tests.support.iam_policy import CallRecorder, denied

    _serving_table_on_moto()
    policies = RolePolicies.from_template(NAMES)
    bars = [serving.Bar("AAPL", f"2024-01-{d:02d}", Decimal("1.5"), Decimal("2"), Decimal("1"), Decimal("1.75"),
                        100 + d, "R1", "20240101T000000Z-aaaaaa") for d in range(1, 31)]
    writes = CallRecorder()
    with writes.recording():
        writer = adapter.DynamoServingTable(NAMES.serving_table, boto3.client("dynamodb", region_name=REGION))
        writer.put_bars(bars)
        writer.put_bars(bars[:3])  # a replay: refused as stale, still only the loader's actions
        if hasattr(writer, "put_bars_unconditionally"):  # the bulk path: BatchWriteItem, 25 at a time
            writer.put_bars_unconditionally(bars)
        writer.delete_bars([serving.Deletion("AAPL", "2024-01-30", "20250101T000000Z-bbbbbb")])
    assert {"PutItem", "DeleteItem"} <= {c.operation for c in writes.calls}, writes.calls
    refused = denied(policies, "ServeLoaderRole", writes.calls, NAMES)
    assert refused == [], "\n".join(refused)
    reads = CallRecorder()
    with reads.recording():
        reader = adapter.DynamoServingTable(NAMES.serving_table, boto3.client("dynamodb", region_name=REGION))
        assert [b.trade_date for b in reader.get_bars("AAPL", last=2)] == ["2024-01-28", "2024-01-29"]
        reader.get_bars("AAPL", start="2024-01-03", end="2024-01-05")
    refused = denied(policies, "ServeReaderRole", reads.calls, NAMES)
    assert refused == [], "\n".join(refused)


def _serving_table_on_moto():
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=NAMES.serving_table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"},
                              {"AttributeName": "trade_date", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"},
                   {"AttributeName": "trade_date", "KeyType": "RANGE"}])
    return client


def _sqs_event(*keys: str) -> dict:
    """An SQS batch as the event source mapping hands it over: EventBridge "Object Created"
    bodies, keys URL-encoded as S3 sends them."""
    records = []
    for n, key in enumerate(keys):
        body = {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
                "detail": {"bucket": {"name": BUCKET}, "object": {"key": urllib.parse.quote_plus(key, safe="/")}}}
        records.append({"messageId": f"m{n}", "receiptHandle": f"rh{n}", "body": json.dumps(body),
                        "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs",
                        "eventSourceARN": QUEUE_ARN})
    return {"Records": records}


def test_the_loader_role_allows_every_call_the_loader_handler_makes(s3, monkeypatch):
    """Recorded on moto: a publish, then a rollback that removes a bar, through the loader Lambda's
    handler with the environment the stack gives it."""
    entry = pytest.importorskip("workflows.entry.serve_loader", reason="the loader lands with serve-events")
    manifests = pytest.importorskip("glue_jobs.lake.published_manifest", reason="lands with serve-events")
    import datetime as dt

    import pyarrow as pa

    from glue_jobs.adapters.aws.s3_storage import S3Storage
    from glue_jobs.lake import parquet
    from tests.support.iam_policy import CallRecorder, denied

    dynamodb = _serving_table_on_moto()
    storage = S3Storage(BUCKET, client=s3)
    monkeypatch.setenv("TICKERLAKE_LAKE", f"s3://{BUCKET}")
    monkeypatch.setenv("TICKERLAKE_SERVING_TABLE", NAMES.serving_table)

    def publish(run_id: str, days: list[int], previous: str | None) -> str:
        prefix = f"warehouse/daily_prices/trade_year=2024/v={run_id}/"
        parquet.write_table(storage, prefix + "part-0.parquet", pa.table({
            "symbol": ["AAPL"] * len(days), "trade_date": [dt.date(2024, 1, d) for d in days],
            "open": [187.15] * len(days), "high": [188.44] * len(days), "low": [183.89] * len(days),
            "close": [185.64] * len(days), "volume": pa.array([82488700] * len(days), pa.int64()),
            "ingest_run_id": ["20240105T220000Z-aaaaaa"] * len(days)}))
        location = prefix  # a partition's location as the catalog port gives it: the key under the lake
        key = published_manifest_key(run_id)
        storage.put_bytes(key, manifests.to_bytes(manifests.build(run_id, {"2024": (location, previous)})))
        return key, location

    first, location = publish("20240105T220001Z-aaaaaa", [2, 3, 4, 5], None)
    rollback, _ = publish("20240106T090000Z-bbbbbb", [2, 3, 4], location)
    recorder = CallRecorder()
    with recorder.recording():
        answer = entry.handler(_sqs_event(first, rollback), None)
    assert answer == {"batchItemFailures": []}
    rows = dynamodb.query(TableName=NAMES.serving_table, KeyConditionExpression="symbol = :s",
                          ExpressionAttributeValues={":s": {"S": "AAPL"}})["Items"]
    assert sorted(r["trade_date"]["S"] for r in rows) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert {"GetObject", "PutItem", "DeleteItem"} <= {c.operation for c in recorder.calls}, recorder.calls
    refused = denied(RolePolicies.from_template(NAMES), "ServeLoaderRole", recorder.calls, NAMES)
    assert refused == [], "\n".join(refused)


def test_the_reader_role_allows_every_call_the_http_handler_makes(aws, monkeypatch):
    entry = pytest.importorskip("workflows.entry.serve_http", reason="the HTTP reader lands with serve-read")
    from tests.support.iam_policy import CallRecorder, denied

    dynamodb = _serving_table_on_moto()
    for day in ("2024-01-02", "2024-01-03"):
        dynamodb.put_item(TableName=NAMES.serving_table, Item={
            "symbol": {"S": "AAPL"}, "trade_date": {"S": day}, "open": {"N": "187.15"}, "high": {"N": "188.44"},
            "low": {"N": "183.89"}, "close": {"N": "185.64"}, "volume": {"N": "82488700"},
            "ingest_run_id": {"S": "R"}, "version": {"S": "20240105T220001Z-aaaaaa"}})
    monkeypatch.setenv("TICKERLAKE_LAKE", f"s3://{BUCKET}")
    monkeypatch.setenv("TICKERLAKE_SERVING_TABLE", NAMES.serving_table)
    if hasattr(entry, "_runtime"):
        monkeypatch.setattr(entry, "_runtime", None)  # opened once per container: open it while recording
    event = {"version": "2.0", "rawPath": "/bars/AAPL", "rawQueryString": "last=1",
             "queryStringParameters": {"last": "1"},
             "requestContext": {"http": {"method": "GET", "path": "/bars/AAPL"}}}
    recorder = CallRecorder()
    with recorder.recording():
        answer = entry.handler(event, None)
    assert answer["statusCode"] == 200, answer
    assert [bar["trade_date"] for bar in json.loads(answer["body"])] == ["2024-01-03"]
    assert {c.operation for c in recorder.calls} == {"Query"}, recorder.calls
    refused = denied(RolePolicies.from_template(NAMES), "ServeReaderRole", recorder.calls, NAMES)
    assert refused == [], "\n".join(refused)


# ---------------------------------------------------------------------------------------------
# The HTTP reader: IAM only
# ---------------------------------------------------------------------------------------------


def test_the_reader_is_reachable_only_with_iam_signed_requests(template):
    urls = of_type(template, "AWS::Lambda::Url")
    assert [target(u["Properties"]["TargetFunctionArn"]) for u in urls.values()] == ["ServeReaderFunction"]
    for name, url in urls.items():
        assert url["Properties"]["AuthType"] == "AWS_IAM", f"{name} would answer anonymous requests"
    # no resource policy opens any function to everyone (a NONE URL needs one to answer at all)
    for name, permission in of_type(template, "AWS::Lambda::Permission").items():
        props = permission["Properties"]
        assert props["Principal"] not in ("*", {"AWS": "*"}), name
        assert props.get("FunctionUrlAuthType") != "NONE", name
        assert target(props["FunctionName"]) != "ServeReaderFunction", f"{name}: the reader needs no resource policy"
    # who may call it is an identity policy to attach, scoped to that function
    statements = template["Resources"]["ServeReaderInvokePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (st,) = statements
    assert sorted(st["Action"]) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    assert target(st["Resource"]) == "ServeReaderFunction"
    assert "ServeReaderUrl" in template["Outputs"]


# ---------------------------------------------------------------------------------------------
# The functions: the bundle's runtime, a handler the bundle holds, logs kept and encrypted
# ---------------------------------------------------------------------------------------------


def _package():
    spec = importlib.util.spec_from_file_location("tickerlake_package_for_serving", ROOT / "infra" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("function, handler", [
    ("ServeLoaderFunction", "workflows.entry.serve_loader.handler"),
    ("ServeReaderFunction", "workflows.entry.serve_http.handler"),
])
def test_a_serving_function_runs_a_bundle_make_deploy_uploads_and_a_handler_it_holds(template, function, handler):
    package = _package()
    props = template["Resources"][function]["Properties"]
    ingest = template["Resources"]["IngestFunction"]["Properties"]
    assert props["Handler"] == handler
    # a bundle of package.py's (the loader's adds pyarrow), uploaded where the ingestion one is
    assert props["Code"]["S3Bucket"] == ingest["Code"]["S3Bucket"]
    assert props["Code"]["S3Key"]["Ref"] in package.BUNDLES
    assert props["Runtime"] == f"python{package.LAMBDA_PYTHON}"
    assert props.get("Architectures", ["x86_64"]) == [package.LAMBDA_ARCH]
    module, _, attr = handler.rpartition(".")
    path = module.replace(".", "/") + ".py"
    assert path.split("/")[0] in package.LAMBDA_PACKAGES and not path.startswith(package.LEFT_OUT)
    if not (ROOT / path).exists():
        pytest.skip(f"{path} is not on this branch yet (the serving helpers add it)")
    assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.parametrize("function, role", [("ServeLoaderFunction", "ServeLoaderRole"),
                                            ("ServeReaderFunction", "ServeReaderRole")])
def test_a_serving_function_logs_to_its_own_encrypted_group_with_a_retention(template, policies, function, role):
    res = template["Resources"]
    props = res[function]["Properties"]
    assert target(props["Role"]) == role
    group = target(props["LoggingConfig"]["LogGroup"])
    group_props = res[group]["Properties"]
    assert group_props["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert target(group_props["KmsKeyId"]) == "DataKey"
    assert target(props["KmsKeyArn"]) == "DataKey"  # its environment too
    logs = [st for st in policies.statements[role] if any(a.startswith("logs:") for a in st.actions)]
    assert [st.resources for st in logs] == [[NAMES.table()[f"{group}.Arn"]]]
    # no Lambda writes another function's logs
    assert not policies.allows(role, "logs:PutLogEvents",
                               f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{STACK}-ingest:log-stream:x")


# ---------------------------------------------------------------------------------------------
# Alarms: each fires on the failure it names, to the alerts topic
# ---------------------------------------------------------------------------------------------


def breaches(alarm: dict, value: float) -> bool:
    threshold = float(alarm["Threshold"])
    return {
        "GreaterThanThreshold": value > threshold,
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }[alarm["ComparisonOperator"]]


def measured(alarm: dict) -> list[tuple[str, str, str]]:
    """(namespace, metric, dimension target) of every metric the alarm reads."""
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], target(alarm["Dimensions"][0]["Value"]))]
    out = []
    for metric in alarm["Metrics"]:
        if "MetricStat" in metric:
            m = metric["MetricStat"]["Metric"]
            out.append((m["Namespace"], m["MetricName"], target(m["Dimensions"][0]["Value"])))
    return out


@pytest.mark.parametrize("metrics, quiet, firing", [
    ({("AWS/SQS", "ApproximateNumberOfMessagesVisible", "ServeDeadLetterQueue")}, 0, 1),  # the first dead letter
    ({("AWS/SQS", "ApproximateAgeOfOldestMessage", "ServeQueue")}, 600, 4 * 3600),
    ({("AWS/Lambda", "Errors", "ServeLoaderFunction")}, 0, 1),
    ({("AWS/Lambda", "Throttles", "ServeLoaderFunction")}, 0, 1),
    ({("AWS/DynamoDB", "WriteThrottleEvents", "ServingTable"), ("AWS/DynamoDB", "ReadThrottleEvents", "ServingTable")},
     0, 1),
])
def test_a_serving_failure_raises_an_alarm_on_the_alerts_topic(template, metrics, quiet, firing):
    (alarm,) = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()
                if set(measured(a["Properties"])) == metrics]
    assert not breaches(alarm, quiet) and breaches(alarm, firing)
    assert [target(a) for a in alarm["AlarmActions"]] == ["AlertsTopic"]
    assert alarm["TreatMissingData"] == "notBreaching"  # no data is no failure (an idle queue)
    if "Metrics" in alarm:  # metric math: one expression returned, summing every metric read
        (returned,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
        assert all(m["Id"] in returned["Expression"] for m in alarm["Metrics"] if "MetricStat" in m)


# ---------------------------------------------------------------------------------------------
# The stage graph: a stage of aws_kind "event" is this event path, not a Glue job
# ---------------------------------------------------------------------------------------------


def test_every_event_stage_of_the_graph_is_an_event_path_in_the_template(template, policies):
    rules = {r["Metadata"]["tickerlake"]["stage"]: (name, r) for name, r in of_type(template, "AWS::Events::Rule").items()
             if "tickerlake" in r.get("Metadata", {})}
    if "serve" not in graph.BY_NAME:
        pytest.skip("workflows/graph.py has no serve stage yet (another serving branch adds it)")
    # serve is "event" (the loader Lambda) or "inline" (a check riding in publish's Glue job,
    # the Lambda doing the work): either way its work on AWS is this event path
    event_stages = [s for s in graph.STAGES if s.aws_kind == "event" or s.name == "serve"]
    assert graph.BY_NAME["serve"].aws_kind in ("event", "inline")
    assert sorted(rules) == sorted(s.name for s in event_stages), "a rule per event stage, no other"
    jobs = {j["Properties"]["DefaultArguments"]["--stage"]: j for j in of_type(template, "AWS::Glue::Job").values()}
    from moto.events.models import EventPattern

    for stage in event_stages:
        rule_name, rule = rules[stage.name]
        # the upstream stage writes the object whose creation is the event
        key = published_manifest_key(new_run_id())
        upstream_role = target(jobs[stage.after]["Properties"]["Role"])
        assert policies.allows(upstream_role, "s3:PutObject", f"{LAKE}/{key}"), (stage.after, upstream_role)
        pattern = EventPattern.load(json.dumps(resolve(rule["Properties"]["EventPattern"], NAMES.table())))
        assert pattern.matches_event({"source": "aws.s3", "detail-type": "Object Created",
                                      "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}})
        # -> a queue -> a function whose handler is the stage's entry point
        queue = target(rule["Properties"]["Targets"][0]["Arn"])
        function, _ = loader_of_queue(template, queue)
        handler = template["Resources"][function]["Properties"]["Handler"]
        assert handler == f"workflows.entry.{stage.name}_loader.handler", (stage.name, handler)


def test_a_day_with_recorded_changes_reaches_dynamodb_through_the_loader_without_reading_the_year(s3, monkeypatch):
    """Recorded on moto: a day's manifest naming the rows publish changed. The loader Lambda
    writes them, under the permissions its role has, and reads neither version of the year."""
    entry = pytest.importorskip("workflows.entry.serve_loader", reason="the loader lands with serve-events")
    import datetime as dt

    import pyarrow as pa

    from glue_jobs.adapters.aws.s3_storage import S3Storage
    from glue_jobs.lake import parquet, published_changes
    from glue_jobs.lake import published_manifest as manifests
    from tests.support.iam_policy import CallRecorder, denied

    dynamodb = _serving_table_on_moto()
    storage = S3Storage(BUCKET, client=s3)
    monkeypatch.setenv("TICKERLAKE_LAKE", f"s3://{BUCKET}")
    monkeypatch.setenv("TICKERLAKE_SERVING_TABLE", NAMES.serving_table)

    def bars(days: list[int], close: float) -> pa.Table:
        return pa.table({
            "symbol": ["AAPL"] * len(days), "trade_date": [dt.date(2024, 1, d) for d in days],
            "open": [187.15] * len(days), "high": [188.44] * len(days), "low": [183.89] * len(days),
            "close": [close] * len(days), "volume": pa.array([82488700] * len(days), pa.int64()),
            "ingest_run_id": ["20240105T220000Z-aaaaaa"] * len(days)})

    old, new, run = ("warehouse/daily_prices/trade_year=2024/v=20240104T220001Z-aaaaaa/",
                     "warehouse/daily_prices/trade_year=2024/v=20240105T220001Z-bbbbbb/", "20240105T220001Z-bbbbbb")
    parquet.write_table(storage, old + "part-0.parquet", bars([2, 3, 4], 185.64))
    parquet.write_table(storage, new + "part-0.parquet", bars([2, 3, 4, 5], 185.64))
    changes = published_changes.location(run, "2024", new)
    parquet.write_table(storage, changes + "changes.parquet", bars([5], 185.64))
    doc = manifests.build(run, {"2024": (new, old)})
    doc["partitions"][0]["changes"] = changes
    key = published_manifest_key(run)
    storage.put_bytes(key, manifests.to_bytes(doc))

    recorder = CallRecorder()
    with recorder.recording():
        assert entry.handler(_sqs_event(key), None) == {"batchItemFailures": []}
    rows = dynamodb.query(TableName=NAMES.serving_table, KeyConditionExpression="symbol = :s",
                          ExpressionAttributeValues={":s": {"S": "AAPL"}})["Items"]
    assert [(r["trade_date"]["S"], r["version"]["S"]) for r in rows] == [("2024-01-05", run)]
    read = [str(c.params.get("Key", "")) for c in recorder.calls if c.operation == "GetObject"]
    assert not [k for k in read if k.startswith(("warehouse/",))], read  # neither version of the year
    assert any(k.startswith(changes) for k in read), read
    refused = denied(RolePolicies.from_template(NAMES), "ServeLoaderRole", recorder.calls, NAMES)
    assert refused == [], "\n".join(refused)


def test_publish_may_record_its_changes_where_the_loader_may_read_them(policies):
    where = f"{LAKE}/manifests/published/changes/20261120T220001Z-abc123/trade_year=2026/0123456789abcdef/"
    assert policies.allows("PublishRole", "s3:PutObject", where + "changes.parquet")
    assert policies.allows("ServeLoaderRole", "s3:GetObject", where + "changes.parquet")
    assert policies.allows("ServeLoaderRole", "s3:ListBucket", LAKE, {"s3:prefix": where[len(LAKE) + 1:]})


def test_a_backfill_partition_goes_back_to_the_queue_as_slices_that_serve_every_bar(s3, monkeypatch):
    """Recorded on moto: a manifest whose partition is new as a whole (a backfill's year) is more
    than one invocation may write. The loader sends it back to its own queue as slices of
    symbols, each slice message loads its symbols only, and together they serve every bar; the
    manifest delivered again sends the same slices and changes nothing. The role allows it all."""
    entry = pytest.importorskip("workflows.entry.serve_loader")
    import datetime as dt

    import pyarrow as pa

    from glue_jobs.adapters.aws.s3_storage import S3Storage
    from glue_jobs.lake import parquet
    from glue_jobs.lake import published_manifest as manifests
    from glue_jobs.serve import loader
    from tests.support.iam_policy import CallRecorder, denied

    dynamodb = _serving_table_on_moto()
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=f"{STACK}-ServeQueue")["QueueUrl"]
    storage = S3Storage(BUCKET, client=s3)
    monkeypatch.setenv("TICKERLAKE_LAKE", f"s3://{BUCKET}")
    monkeypatch.setenv("TICKERLAKE_SERVING_TABLE", NAMES.serving_table)
    monkeypatch.setenv("TICKERLAKE_QUEUE_URL_SERVE", queue_url)
    monkeypatch.setattr(loader, "SLICE_BARS", 8)  # 5 symbols x 4 days = 20 bars: 3 slices of 2, 2 and 1 symbols

    symbols, days = ["AAPL", "IBM", "MSFT", "NVDA", "XOM"], [2, 3, 4, 5]
    run = "20240105T220001Z-aaaaaa"
    location = "warehouse/daily_prices/trade_year=2024/v=20240105T220001Z-aaaaaa/"
    parquet.write_table(storage, location + "part-0.parquet", pa.table({
        "symbol": [s for s in symbols for _ in days], "trade_date": [dt.date(2024, 1, d) for _ in symbols for d in days],
        "open": [187.15] * 20, "high": [188.44] * 20, "low": [183.89] * 20, "close": [185.64] * 20,
        "volume": pa.array([82488700] * 20, pa.int64()), "ingest_run_id": ["20240105T220000Z-aaaaaa"] * 20}))
    key = published_manifest_key(run)
    storage.put_bytes(key, manifests.to_bytes(manifests.build(run, {"2024": (location, None)})))

    def served() -> list[tuple[str, str]]:
        items = dynamodb.scan(TableName=NAMES.serving_table)["Items"]
        return sorted((i["symbol"]["S"], i["trade_date"]["S"]) for i in items)

    def slices() -> list[dict]:
        got = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return got
            got += batch
            for m in batch:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    recorder = CallRecorder()
    with recorder.recording():
        assert entry.handler(_sqs_event(key), None) == {"batchItemFailures": []}
        assert served() == []  # nothing written by the manifest's own message
        sent = slices()
        assert sorted((json.loads(m["Body"])["first"], json.loads(m["Body"])["last"]) for m in sent) == [
            ("AAPL", "IBM"), ("MSFT", "NVDA"), ("XOM", "XOM")]
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN} for m in sent[:1]]}
        assert entry.handler(event, None) == {"batchItemFailures": []}
        first = json.loads(sent[0]["Body"])
        assert {s for s, _ in served()} == {s for s in symbols if first["first"] <= s <= first["last"]}
        event["Records"] = [{**event["Records"][0], "messageId": m["MessageId"], "body": m["Body"]} for m in sent]
        assert entry.handler(event, None) == {"batchItemFailures": []}
    assert served() == sorted((s, f"2024-01-0{d}") for s in symbols for d in days)
    refused = denied(RolePolicies.from_template(NAMES), "ServeLoaderRole", recorder.calls, NAMES)
    assert refused == [], "\n".join(refused)
    assert "SendMessage" in {c.operation for c in recorder.calls}

    # the manifest again (SQS delivers at least once): the same slices, and no write changes anything
    assert entry.handler(_sqs_event(key), None) == {"batchItemFailures": []}
    again = slices()
    assert sorted(m["Body"] for m in again) == sorted(m["Body"] for m in sent)
    result = loader.load([loader.Record(m["MessageId"], m["Body"]) for m in again], storage,
                         entry.open_runtime(f"s3://{BUCKET}").serving)
    assert result.failures == {} and result.written.written == 0 and result.written.stale == 20


def test_a_slice_naming_a_partition_its_manifest_did_not_switch_fails_with_its_reason(s3):
    from glue_jobs.adapters.aws.s3_storage import S3Storage
    from glue_jobs.lake import published_manifest as manifests
    from glue_jobs.serve import loader

    storage = S3Storage(BUCKET, client=s3)
    run = "20240105T220001Z-aaaaaa"
    key = published_manifest_key(run)
    storage.put_bytes(key, manifests.to_bytes(manifests.build(run, {"2024": ("warehouse/x/v=1/", None)})))
    body = loader.slice_body(key, "warehouse/y/v=1/", ("A", "B"))
    result = loader.load([loader.Record("m1", body)], storage, serving=None)
    assert "switched no partition to warehouse/y/v=1/" in result.failures["m1"]
    bad = loader.load([loader.Record("m2", json.dumps({"kind": loader.SLICE_KIND, "manifest": key}))], storage, None)
    assert "needs manifest, location, first, last" in bad.failures["m2"]
