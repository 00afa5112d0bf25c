"""The file-drop half of infra/template.yaml: inbox/ -> EventBridge -> DropQueue (+ dead letters)
-> DropLoaderFunction. The rule's pattern is matched with moto's own matcher, the queue settings
are computed from the template, and the role is checked against every AWS call the handler makes
on moto (a good file, a bad file, a replay) with tests/support/iam_policy.py."""
from __future__ import annotations

import json
import urllib.parse

import boto3
import pytest
from cfnlint.decode import decode

from glue_jobs.lake import layout
from tests.support.aws import BUCKET, REGION
from tests.support.iam_policy import TEMPLATE as TEMPLATE_PATH
from tests.support.iam_policy import CallRecorder, Names, RolePolicies, denied, resolve
from workflows.entry import drop_loader

STACK = "tickerlake"
NAMES = Names(stack=STACK, bucket=BUCKET)


@pytest.fixture(scope="module")
def template() -> dict:
    parsed, errors = decode(str(TEMPLATE_PATH))
    assert not errors, errors
    return parsed


def ref(value) -> str:
    if "Fn::GetAtt" in value:
        got = value["Fn::GetAtt"]
        return got[0] if isinstance(got, list) else got.split(".")[0]
    return value["Ref"]


def test_only_keys_under_inbox_reach_the_drop_queue_encoded_or_not(template):
    from moto.events.models import EventPattern

    rule = template["Resources"]["InboxRule"]["Properties"]
    assert [ref(t["Arn"]) for t in rule["Targets"]] == ["DropQueue"]
    pattern = EventPattern.load(json.dumps(resolve(rule["EventPattern"], NAMES.table())))

    def event(key: str, bucket: str = BUCKET) -> dict:
        return {"source": "aws.s3", "detail-type": "Object Created",
                "detail": {"bucket": {"name": bucket}, "object": {"key": key}}}

    for key in ("inbox/IBM.csv", urllib.parse.quote_plus("inbox/my export=1.csv", safe="/")):
        assert pattern.matches_event(event(key)), key
    for key in (layout.raw_key("2026-11-20", "IBM", "r"), layout.drop_received_key("ab", "IBM.csv"),
                layout.drop_rejected_key("ab", "inbox.csv"), "manifests/drops/sha256=ab.json"):
        assert not pattern.matches_event(event(key)), key  # what the loader writes never loops back
    assert not pattern.matches_event(event("inbox/IBM.csv", "someone-elses-bucket"))


def test_the_queue_waits_six_loader_timeouts_and_dead_letters_after_five_receives_kept_longer(template):
    res = template["Resources"]
    queue = res["DropQueue"]["Properties"]
    function = res["DropLoaderFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    dlq = res[ref(queue["RedrivePolicy"]["deadLetterTargetArn"])]["Properties"]
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert ref(queue["KmsMasterKeyId"]) == ref(dlq["KmsMasterKeyId"]) == "DataKey"
    (mapping,) = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
                  and ref(r["Properties"]["EventSourceArn"]) == "DropQueue"]
    assert ref(mapping["FunctionName"]) == "DropLoaderFunction"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert function["Handler"] == "workflows.entry.drop_loader.handler"
    assert function["Runtime"] == "python3.12"


def test_the_dead_letter_queue_the_function_and_its_throttles_have_alarms(template):
    watched = set()
    for r in template["Resources"].values():
        if r["Type"] == "AWS::CloudWatch::Alarm":
            for d in r["Properties"].get("Dimensions", []):
                watched.add((r["Properties"].get("MetricName"), ref(d["Value"])))
    (age,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
              and ref(r["Properties"]["Dimensions"][0]["Value"]) == "DropQueue"]
    # not on a message that only waits between two retries
    assert age["Threshold"] >= template["Resources"]["DropQueue"]["Properties"]["VisibilityTimeout"]
    assert {("ApproximateNumberOfMessagesVisible", "DropDeadLetterQueue"), ("ApproximateAgeOfOldestMessage", "DropQueue"),
            ("Errors", "DropLoaderFunction"), ("Throttles", "DropLoaderFunction")} <= watched


@pytest.fixture
def loader_calls(s3, monkeypatch):
    boto3.client("glue", region_name=REGION).create_workflow(Name=f"{STACK}-wap")
    env = {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_WORKFLOW_NAME": f"{STACK}-wap"}
    good = b"timestamp,open,high,low,close,volume\n2024-01-10,10,11,9,10.5,100\n"
    s3.put_object(Bucket=BUCKET, Key="inbox/IBM.csv", Body=good)
    s3.put_object(Bucket=BUCKET, Key="inbox/MSFT.csv", Body=b"timestamp,open\n1,2\n")

    def record(mid, key):
        detail = {"bucket": {"name": BUCKET}, "object": {"key": urllib.parse.quote_plus(key, safe="/")}}
        return {"messageId": mid, "body": json.dumps({"source": "aws.s3", "detail": detail})}

    batch = {"Records": [record("a", "inbox/IBM.csv"), record("b", "inbox/MSFT.csv")]}
    recorder = CallRecorder()
    with recorder.recording():
        assert drop_loader.handler(batch, None, env=env) == {"batchItemFailures": []}
        s3_again = boto3.client("s3", region_name=REGION)
        s3_again.put_object(Bucket=BUCKET, Key="inbox/IBM.csv", Body=good)  # dropped twice
        assert drop_loader.handler(batch, None, env=env) == {"batchItemFailures": []}
    calls = [c for c in recorder.calls if not (c.service == "s3" and c.operation == "PutObject"
                                               and c.params["Key"] == "inbox/IBM.csv")]  # the test's own put
    return calls


def test_the_drop_loader_role_allows_every_call_the_handler_makes(loader_calls):
    ops = {(c.service, c.operation) for c in loader_calls}
    assert {("s3", "PutObject"), ("s3", "DeleteObjects"), ("glue", "StartWorkflowRun")} <= ops
    refused = denied(RolePolicies.from_template(NAMES), "DropLoaderRole", loader_calls, NAMES)
    assert refused == [], "\n".join(refused)


def test_the_role_may_not_touch_published_data_or_delete_outside_the_inbox():
    policies = RolePolicies.from_template(NAMES)
    lake = f"arn:aws:s3:::{BUCKET}"
    assert policies.allows("DropLoaderRole", "s3:DeleteObject", f"{lake}/inbox/IBM.csv")
    for key in ("warehouse/daily_prices/trade_year=2024/v=r/part-0.parquet", "raw/daily/x/body.csv",
                "catalog/stocks/daily_prices.json", "drops/received/sha256=ab/IBM.csv"):
        assert not policies.allows("DropLoaderRole", "s3:DeleteObject", f"{lake}/{key}"), key
    assert not policies.allows("DropLoaderRole", "s3:PutObject", f"{lake}/warehouse/daily_prices/x.parquet")
    assert not policies.allows("DropLoaderRole", "s3:PutObject", f"{lake}/manifests/published/r.json")
