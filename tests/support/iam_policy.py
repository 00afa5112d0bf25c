"""The template's IAM policies, evaluated offline: what moto does not check.

`RolePolicies.from_template` reads every role of infra/template.yaml (its inline policies and the
template's managed policies it attaches), resolves !Sub / !Ref / !GetAtt to the names a test uses,
and `allows(action, resource, context)` answers as IAM would for an identity policy (an explicit
Deny wins; `*` and `?` wildcards in actions and ARNs; the StringLike/StringEquals/ArnLike/ArnEquals
conditions the template uses; any other condition is refused loudly rather than guessed).

`CallRecorder` hooks botocore's `provide-client-params` event on every client created while it
is active and keeps (service, operation, params) of each call; `iam_requests` maps a call to the
IAM action(s) and resource ARN(s) it needs (service prefix + operation, with the S3 exceptions
listed in the Service Authorization Reference: ListObjectsV2 -> s3:ListBucket, HeadObject ->
s3:GetObject, multipart calls -> s3:PutObject, ...).
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"  # moto's default account


@dataclass
class Names:
    """What the template's references stand for in a test (moto's names)."""

    stack: str = "tickerlake"
    bucket: str = "tickerlake-test-lake"
    artifacts_bucket: str = "tickerlake-artifacts"
    secret_arn: str = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tickerlake-ApiKeySecret-abc"
    topic_arn: str = f"arn:aws:sns:{REGION}:{ACCOUNT}:tickerlake-AlertsTopic"
    serving_table: str = "tickerlake-ServingTable-1A2B3C"  # CloudFormation names it: stack-logicalid-suffix
    extra: dict[str, str] = field(default_factory=dict)
    # the template's Conditions a test deploys with (an !If in a policy picks its branch by these)
    conditions: dict[str, bool] = field(default_factory=lambda: {"UseKinesis": True, "UseSqsFifo": False})

    def table(self) -> dict[str, str]:
        refs = {
            "AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack,
            "LakeBucket": self.bucket, "LakeBucket.Arn": f"arn:aws:s3:::{self.bucket}",
            "ArtifactsBucket": self.artifacts_bucket, "GlueWheelKey": "glue/tickerlake.whl",
            "GlueScriptKey": "glue/glue_stage.py",
            "WapWorkflow": f"{self.stack}-wap", "AthenaWorkGroup": self.stack,
            "AlertsTopic": self.topic_arn, "ApiKeySecret": self.secret_arn,
            "DataKey.Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
            "IngestLogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-ingest:*",
            "IngestDeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-IngestDeadLetterQueue",
            "ServingTable": self.serving_table,
            "ServingTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.serving_table}",
            "ServeQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-ServeQueue",
            "ServeDeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-ServeDeadLetterQueue",
            "ServeLoaderLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-serve-loader:*",
            "ServeReaderLogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-serve-http:*",
            "ServeReaderFunction.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.stack}-serve-http",
            # fan-out ingestion (IngestMode fan-out)
            "FanOutQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest",
            "FanOutDeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest-dlq",
            "TokenBucketTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tickerlake-token-buckets",
            "FanOutWorkerLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-fanout-worker:*",
            "DropQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-DropQueue",
            "DropLoaderLogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-drop-loader:*",
            "ProducerLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-stream-producer:*",
            "ProducerDeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-ProducerDeadLetterQueue",
            "QuoteStream": f"{self.stack}-quotes",
            "QuoteStream.Arn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{self.stack}-quotes",
            "QuoteQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-quotes.fifo",
            # the intraday consumer (issue 14)
            "ConsumerLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-stream-consumer:*",
            "ConsumerRole": f"{self.stack}-ConsumerRole-1A2B3C",
            "QuotesTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.stack}-QuotesTable-1A2B3C",
            "ConsumerFailureQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-ConsumerFailureQueue",
            "StocksDatabase": "stocks",
            # the scheduled history compactor (SQS FIFO transport)
            "HistoryCompactorLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{self.stack}-history-compactor:*",
            "HistoryCompactorDeadLetterQueue.Arn":
                f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.stack}-HistoryCompactorDeadLetterQueue",
            "FirehoseLogGroup.Arn":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/kinesisfirehose/{self.stack}-quotes-history:*",
        }
        refs.update(self.extra)
        return refs


class Unresolved(KeyError):
    pass


def resolve(value: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return _lookup(value["Ref"], refs)
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            return _lookup(".".join(target) if isinstance(target, list) else target, refs)
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            if isinstance(text, list):
                text, local = text
                refs = {**refs, **{k: resolve(v, refs) for k, v in local.items()}}
            return re.sub(r"\$\{([^}]+)\}", lambda m: _lookup(m.group(1), refs), text)
        return {k: resolve(v, refs) for k, v in value.items()}
    return value


def _lookup(name: str, refs: Mapping[str, str]) -> str:
    if name not in refs:
        raise Unresolved(f"the permission check does not know what {name!r} stands for: add it to Names")
    return refs[name]


def _listify(value) -> list:
    return value if isinstance(value, list) else [value]


def _match(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


@dataclass
class Statement:
    role: str
    sid: str
    effect: str
    actions: list[str]
    resources: list[str]
    condition: dict

    def covers(self, action: str, resource: str, context: Mapping[str, str]) -> bool:
        if not any(_match(a, action, case=False) for a in self.actions):
            return False
        if not any(_match(r, resource) for r in self.resources):
            return False
        return self._condition_holds(context)

    def _condition_holds(self, context: Mapping[str, str]) -> bool:
        for operator, tests in self.condition.items():
            for key, wanted in tests.items():
                wanted = [str(w) for w in _listify(wanted)]
                have = context.get(key)
                if operator in ("StringLike", "ArnLike"):
                    ok = have is not None and any(_match(w, have) for w in wanted)
                elif operator in ("StringEquals", "ArnEquals"):
                    ok = have is not None and have in wanted
                else:
                    raise NotImplementedError(f"{self.role}/{self.sid}: condition {operator} is not modelled")
                if not ok:
                    return False
        return True


@dataclass
class RolePolicies:
    statements: dict[str, list[Statement]]

    @classmethod
    def from_template(cls, names: Names | None = None, template: dict | None = None) -> RolePolicies:
        if template is None:
            template, errors = decode(str(TEMPLATE))
            assert not errors, errors
        names = names or Names()
        refs = names.table()
        resources = template["Resources"]
        out: dict[str, list[Statement]] = {}
        for name, res in resources.items():
            if res["Type"] != "AWS::IAM::Role":
                continue
            props = res["Properties"]
            docs = [(p["PolicyName"], p["PolicyDocument"]) for p in props.get("Policies", [])]
            for managed in props.get("ManagedPolicyArns", []):
                target = managed.get("Ref") if isinstance(managed, dict) else None
                assert target in resources, f"{name}: managed policy {managed!r} is not in the template"
                docs.append((target, resources[target]["Properties"]["PolicyDocument"]))
            # inline policies declared apart and attached to the role (e.g. only in one IngestMode)
            for other, policy in resources.items():
                if policy["Type"] == "AWS::IAM::Policy" and {"Ref": name} in policy["Properties"].get("Roles", []):
                    if not names.conditions.get(policy.get("Condition", ""), True):
                        continue  # a policy this deployment's conditions leave out (unnamed ones: kept)
                    docs.append((other, policy["Properties"]["PolicyDocument"]))
            statements = []
            for _, doc in docs:
                for st in doc["Statement"]:
                    if set(st) == {"Fn::If"}:  # a statement the deployment's conditions choose
                        condition, when_true, when_false = st["Fn::If"]
                        st = when_true if names.conditions[condition] else when_false
                        if st == {"Ref": "AWS::NoValue"}:
                            continue
                    statements.append(Statement(
                        role=name, sid=st.get("Sid", "?"), effect=st["Effect"],
                        actions=_listify(st["Action"]),
                        resources=[str(r) for r in _listify(resolve(st["Resource"], refs))],
                        condition=resolve(st.get("Condition", {}), refs),
                    ))
            out[name] = statements
        return cls(out)

    def allows(self, role: str, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        context = context or {}
        statements = self.statements[role]
        if any(st.effect == "Deny" and st.covers(action, resource, context) for st in statements):
            return False
        return any(st.effect == "Allow" and st.covers(action, resource, context) for st in statements)

    def without(self, role: str, action: str) -> RolePolicies:
        """A copy where `role` lost `action` (to show the check notices a missing permission)."""
        copy = {r: list(sts) for r, sts in self.statements.items()}
        copy[role] = [
            Statement(st.role, st.sid, st.effect, [a for a in st.actions if a.lower() != action.lower()],
                      st.resources, st.condition)
            for st in copy[role]
        ]
        return RolePolicies(copy)


# ---------------------------------------------------------------------------------------------
# Calls -> IAM requests
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    service: str  # the IAM prefix (botocore's signing name)
    operation: str
    params: Mapping[str, Any]

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k in ("Bucket", "Key", "Prefix", "Name", "DatabaseName",
                                                                   "TableName", "SecretId", "TopicArn", "WorkGroup")}
        return f"{self.service}:{self.operation}({shown})"


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


_S3_ACTIONS = {
    "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket",
    "HeadObject": "GetObject", "GetObject": "GetObject", "PutObject": "PutObject",
    "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload", "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads", "DeleteObject": "DeleteObject",
    "GetBucketLocation": "GetBucketLocation", "ListObjectVersions": "ListBucketVersions",
}

# Glue: an operation on a table needs its action on the table, its database and the catalog
# (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
_GLUE_TABLE_OPS = {
    "GetTable", "CreateTable", "UpdateTable", "DeleteTable", "GetPartition", "GetPartitions",
    "BatchGetPartition", "CreatePartition", "BatchCreatePartition", "UpdatePartition",
    "BatchUpdatePartition", "DeletePartition", "BatchDeletePartition", "GetPartitionIndexes",
}
_GLUE_DATABASE_OPS = {"GetDatabase", "GetTables", "CreateTable"}
_GLUE_WORKFLOW_OPS = {"StartWorkflowRun", "GetWorkflowRunProperties", "PutWorkflowRunProperties",
                      "GetWorkflowRun", "GetWorkflow"}


def iam_requests(call: Call, names: Names) -> list[Request]:
    p, op = call.params, call.operation
    glue = f"arn:{PARTITION}:glue:{REGION}:{ACCOUNT}"
    if call.service == "s3":
        if op == "DeleteObjects":
            return [Request("s3:DeleteObject", f"arn:aws:s3:::{p['Bucket']}/{o['Key']}") for o in p["Delete"]["Objects"]]
        if op == "CopyObject":
            src = p["CopySource"]
            src = f"{src['Bucket']}/{src['Key']}" if isinstance(src, dict) else src.lstrip("/")
            return [Request("s3:GetObject", f"arn:aws:s3:::{src}"),
                    Request("s3:PutObject", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}")]
        if op not in _S3_ACTIONS:
            raise NotImplementedError(f"no IAM mapping for {call!r}: add it to _S3_ACTIONS")
        action = "s3:" + _S3_ACTIONS[op]
        if op in ("GetObject", "HeadObject") and p.get("VersionId"):
            action = "s3:GetObjectVersion"
        if "Key" in p:
            return [Request(action, f"arn:aws:s3:::{p['Bucket']}/{p['Key']}")]
        context = (("s3:prefix", p.get("Prefix", "")),) if action == "s3:ListBucket" else ()
        return [Request(action, f"arn:aws:s3:::{p['Bucket']}", context)]
    if call.service == "glue":
        action = "glue:" + op
        if op in _GLUE_WORKFLOW_OPS:
            return [Request(action, f"{glue}:workflow/{p['Name']}")]
        db = p.get("DatabaseName")
        table = p.get("TableName") or (p.get("TableInput") or {}).get("Name") or p.get("Name")
        if op == "GetDatabase":
            db = p["Name"]
        out = [Request(action, f"{glue}:catalog")]
        if db:
            out.append(Request(action, f"{glue}:database/{db}"))
        if op in _GLUE_TABLE_OPS:
            out.append(Request(action, f"{glue}:table/{db}/{table}"))
        elif op == "GetTables":
            out.append(Request(action, f"{glue}:table/{db}/*"))
        elif op not in _GLUE_DATABASE_OPS | {"GetDatabases"}:
            raise NotImplementedError(f"no IAM mapping for {call!r}")
        return out
    if call.service == "athena":
        workgroup = p.get("WorkGroup") or names.stack  # the jobs query only in the stack's workgroup
        return [Request("athena:" + op, f"arn:{PARTITION}:athena:{REGION}:{ACCOUNT}:workgroup/{workgroup}")]
    if call.service == "secretsmanager":
        return [Request("secretsmanager:" + op, p["SecretId"])]
    if call.service == "sns":
        return [Request("sns:" + op, p["TopicArn"])]
    if call.service == "dynamodb":
        # Item and query actions are authorized on the table (an index's query on table/T/index/I);
        # a batch on every table it names
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
        table = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/"
        if op in ("BatchWriteItem", "BatchGetItem"):
            return [Request("dynamodb:" + op, table + name) for name in p["RequestItems"]]
        if op == "TransactWriteItems":
            out = []
            for item in p["TransactItems"]:
                ((kind, body),) = item.items()
                action = {"Put": "PutItem", "Delete": "DeleteItem", "Update": "UpdateItem",
                          "ConditionCheck": "ConditionCheckItem"}[kind]
                out.append(Request("dynamodb:" + action, table + body["TableName"]))
            return sorted(set(out), key=lambda r: (r.action, r.resource))
        if "TableName" not in p:
            raise NotImplementedError(f"no IAM mapping for {call!r}")
        resource = table + p["TableName"] + (f"/index/{p['IndexName']}" if p.get("IndexName") else "")
        return [Request("dynamodb:" + op, resource)]
    if call.service == "sqs":
        queue = p["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        # a batch call is authorized as its single action (the SQS API reference's "Permissions")
        op = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}.get(op, op)
        return [Request("sqs:" + op, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}")]
    if call.service == "kinesis":
        stream = p.get("StreamARN") or f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{p['StreamName']}"
        return [Request("kinesis:" + op, stream)]
    raise NotImplementedError(f"no IAM mapping for {call!r}")


class CallRecorder:
    """Every AWS call made by clients created while `recording()` is active."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def _hook(self, params, model, **_):
        self.calls.append(Call(model.service_model.signing_name, model.name, dict(params)))

    @contextmanager
    def recording(self) -> Iterator[CallRecorder]:
        import botocore.session

        original = botocore.session.Session.create_client
        hook = self._hook

        def create_client(session, *args, **kwargs):
            client = original(session, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", hook)
            return client

        botocore.session.Session.create_client = create_client
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original


def denied(policies: RolePolicies, role: str, calls: list[Call], names: Names) -> list[str]:
    """Each call `role`'s policy would refuse, as 'action on resource (call)'."""
    out = []
    for call in calls:
        for req in iam_requests(call, names):
            if not policies.allows(role, req.action, req.resource, dict(req.context)):
                out.append(f"{req.action} on {req.resource} ({call!r})")
    return sorted(set(out))
