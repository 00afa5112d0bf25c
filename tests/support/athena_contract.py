"""An Athena stand-in: moto's Athena, plus the documented rules our code depends on that moto
does not enforce. Installed as botocore event handlers on a moto-backed Athena client, so the
code under test calls the real boto3 API and meets Athena's answers:

- A workgroup that enforces its configuration (EnforceWorkGroupConfiguration, "Override
  client-side settings") refuses a CTAS that sets `external_location`, at StartQueryExecution,
  with InvalidRequestException "The Create Table As Select query failed because it was submitted
  with an 'external_location' property to an Athena Workgroup that enforces a centralized output
  location for all queries. Please remove the 'external_location' property and resubmit the
  query." (docs.aws.amazon.com/athena/latest/ug/workgroups-troubleshooting.html; the wording as
  reported in dbt-labs/dbt-athena#176 and feast-dev/feast#3326).
- The same workgroup ignores client-side ResultConfiguration (OutputLocation, encryption): "the
  query runs, but uses the workgroup settings" (.../ug/workgroups-settings-override.html). The
  stand-in records the settings a query really ran with: `result_configuration(execution_id)`.
  A CTAS without `external_location` there writes under <output>/tables/<query-id>/
  (.../ug/considerations-ctas.html).
- No output location at all (neither workgroup nor client) is refused: "No output location
  provided. An output location is required either through the Workgroup result configuration
  setting or as an API input." (aws/aws-sdk-js-v3#3589).
- A CTAS `external_location` or UNLOAD `TO` location must be empty, else the query FAILS with
  HIVE_PATH_ALREADY_EXISTS (.../ug/considerations-ctas.html, .../ug/unload.html; the UNLOAD
  wording from aws/aws-sdk-pandas#1200). A successful write leaves a Parquet file there, as
  Athena's would, so the location is not empty afterwards.
- One CTAS, INSERT INTO or UNLOAD writes at most 100 partitions, else it FAILS with
  "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets"
  (.../ug/ctas-insert-into.html, .../ug/unload.html "Maximum partitions"). moto runs no SQL, so
  how many partitions a partitioned statement writes is declared by the test
  (`will_write_partitions(n)`); a partitioned statement nobody declared fails the test, since
  the stand-in cannot tell whether it stays under the limit.
- QueryString is at most 262,144 bytes: InvalidRequestException "1 validation error detected:
  Value '...' at 'queryString' failed to satisfy constraint: Member must have length less than
  or equal to 262144" (.../ug/service-limits.html; the wording from Tomme/dbt-athena#136).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

MAX_QUERY_BYTES = 262_144
MAX_PARTITIONS_PER_STATEMENT = 100
TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

EXTERNAL_LOCATION_REFUSED = (
    "The Create Table As Select query failed because it was submitted with an 'external_location' property "
    "to an Athena Workgroup that enforces a centralized output location for all queries. Please remove the "
    "'external_location' property and resubmit the query."
)
NO_OUTPUT_LOCATION = ("No output location provided. An output location is required either through the Workgroup "
                      "result configuration setting or as an API input.")
TOO_MANY_PARTITIONS = "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets"

_COMMENTS = re.compile(r"--[^\n]*")
_CTAS = re.compile(r"^\s*create\s+table\s+(?:if\s+not\s+exists\s+)?(?P<table>[^\s(]+)\s+with\s*\((?P<props>.*?)\)\s*as\b",
                   re.IGNORECASE | re.DOTALL)
_UNLOAD = re.compile(r"^\s*unload\s*\(.*\)\s*to\s*'(?P<to>s3://[^']+)'\s*with\s*\((?P<props>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*$",
                     re.IGNORECASE | re.DOTALL)
_INSERT = re.compile(r"^\s*insert\s+into\s+(?P<table>[^\s(]+)", re.IGNORECASE)
_PROP = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|array\s*\[[^\]]*\])", re.IGNORECASE)


def _props(text: str) -> dict[str, str]:
    return {k.lower(): v.strip("'") if v.startswith("'") else v for k, v in _PROP.findall(text)}


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key if key.endswith("/") or not key else key + "/"


def _refuse(operation: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": "InvalidRequestException", "Message": message}}, operation)


@dataclass
class Verdict:
    """What the stand-in decided about one statement, before moto ran it."""

    query: str
    result_configuration: dict
    failure: str | None = None
    writes_to: str | None = None  # the s3:// prefix a successful write fills
    execution_id: str | None = None


@dataclass
class AthenaContract:
    """Enforces the rules above on `client` (a moto-backed boto3 Athena client)."""

    client: Any
    s3: Any
    glue: Any
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    _declared_partitions: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        events = self.client.meta.events
        events.register("before-parameter-build.athena.StartQueryExecution", self._before_start)
        events.register("after-call.athena.StartQueryExecution", self._after_start)
        events.register("after-call.athena.GetQueryExecution", self._after_get)

    # -- what tests use ------------------------------------------------------------------------

    def will_write_partitions(self, count: int) -> None:
        """The next partitioned statement writes `count` partitions (moto runs no SQL)."""
        self._declared_partitions.append(count)

    def result_configuration(self, execution_id: str) -> dict:
        """The result settings the query really ran with (the workgroup's, when it enforces)."""
        return self.verdicts[execution_id].result_configuration

    def failure(self, execution_id: str) -> str | None:
        return self.verdicts[execution_id].failure

    # -- the rules ----------------------------------------------------------------------------

    def _workgroup(self, name: str) -> dict:
        return self.client.get_work_group(WorkGroup=name)["WorkGroup"].get("Configuration", {})

    def _before_start(self, params: dict, context: dict, **_: Any) -> None:
        query = params.get("QueryString", "")
        if len(query.encode("utf-8")) > MAX_QUERY_BYTES:
            raise _refuse("StartQueryExecution", (
                f"1 validation error detected: Value '{query[:60]}...' at 'queryString' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_QUERY_BYTES}"))
        config = self._workgroup(params.get("WorkGroup", "primary"))
        enforced = bool(config.get("EnforceWorkGroupConfiguration"))
        group_results = config.get("ResultConfiguration") or {}
        client_results = params.get("ResultConfiguration") or {}
        # Enforced: the workgroup's settings win, the client's are ignored (not refused).
        effective = dict(group_results) if enforced else {**group_results, **client_results}
        if not effective.get("OutputLocation"):
            raise _refuse("StartQueryExecution", NO_OUTPUT_LOCATION)
        statement = _COMMENTS.sub("", query).strip()
        verdict = Verdict(query=query, result_configuration=effective)
        partitioned = False
        ctas, unload, insert = _CTAS.match(statement), _UNLOAD.match(statement), _INSERT.match(statement)
        if ctas:
            props = _props(ctas.group("props"))
            if "external_location" in props and enforced:
                raise _refuse("StartQueryExecution", EXTERNAL_LOCATION_REFUSED)
            # without one, the table goes under the results location, a fresh prefix per query
            verdict.writes_to = props.get("external_location")
            partitioned = "partitioned_by" in props
            if verdict.writes_to and self._holds_objects(verdict.writes_to):
                verdict.failure = (f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{ctas.group('table')}' "
                                   f"already exists: {verdict.writes_to}")
        elif unload:
            props = _props(unload.group("props"))
            verdict.writes_to = unload.group("to")
            partitioned = "partitioned_by" in props
            if self._holds_objects(verdict.writes_to):
                verdict.failure = "HIVE_PATH_ALREADY_EXISTS: Target directory already exists"
        elif insert:
            partitioned = self._is_partitioned(insert.group("table"), params)
        if partitioned and verdict.failure is None:
            if not self._declared_partitions:
                raise AssertionError(
                    "the Athena stand-in cannot tell how many partitions this statement writes (moto runs no "
                    "SQL); declare it with athena_contract.will_write_partitions(n):\n" + query[:500])
            if self._declared_partitions.pop(0) > MAX_PARTITIONS_PER_STATEMENT:
                verdict.failure = TOO_MANY_PARTITIONS
        context["athena_contract"] = verdict

    def _after_start(self, parsed: dict, context: dict, **_: Any) -> None:
        verdict: Verdict | None = context.get("athena_contract")
        if verdict is None or "QueryExecutionId" not in parsed:
            return
        verdict.execution_id = parsed["QueryExecutionId"]
        self.verdicts[verdict.execution_id] = verdict
        if verdict.failure is None and verdict.writes_to:
            buffer = io.BytesIO()
            pq.write_table(pa.table({"written_by": [verdict.execution_id]}), buffer)
            bucket, prefix = _split(verdict.writes_to)
            self.s3.put_object(Bucket=bucket, Key=f"{prefix}{verdict.execution_id}_00000", Body=buffer.getvalue())

    def _after_get(self, parsed: dict, **_: Any) -> None:
        execution = parsed.get("QueryExecution") or {}
        verdict = self.verdicts.get(execution.get("QueryExecutionId", ""))
        if verdict is None:
            return
        execution["ResultConfiguration"] = verdict.result_configuration
        if verdict.failure is not None and execution.get("Status", {}).get("State") in ("SUCCEEDED", "RUNNING"):
            execution["Status"] = {**execution.get("Status", {}), "State": "FAILED",
                                   "StateChangeReason": verdict.failure,
                                   "AthenaError": {"ErrorCategory": 2, "ErrorMessage": verdict.failure}}

    def _holds_objects(self, uri: str) -> bool:
        bucket, prefix = _split(uri)
        return bool(self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"))

    def _is_partitioned(self, table: str, params: dict) -> bool:
        names = [part.strip('"') for part in table.split(".")]
        database = names[0] if len(names) == 2 else params.get("QueryExecutionContext", {}).get("Database", "default")
        try:
            found = self.glue.get_table(DatabaseName=database, Name=names[-1])["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return False
        return bool(found.get("PartitionKeys"))


def template_workgroup(bucket: str, kms_key_arn: str) -> dict:
    """The AthenaWorkGroup of infra/template.yaml as CreateWorkGroup's Configuration, its
    references resolved for a test bucket: the adapter tests run in the workgroup we deploy."""
    from cfnlint.decode import decode

    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    config = parsed["Resources"]["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Fn::Sub"}:
                return value["Fn::Sub"].replace("${LakeBucket}", bucket)
            if set(value) == {"Fn::GetAtt"}:
                return kms_key_arn
            if set(value) == {"Ref"}:
                return 10 * 1024 ** 3 if value["Ref"] == "BytesScannedCutoffPerQuery" else value["Ref"]
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    resolved = resolve(dict(config))
    resolved.pop("EngineVersion", None)  # moto's model has none
    return resolved


@pytest.fixture
def athena_contract(aws):
    """moto's Athena under Athena's rules, with no workgroup yet (tests create theirs, e.g. from
    template_workgroup)."""
    region = "us-east-1"
    return AthenaContract(boto3.client("athena", region_name=region), boto3.client("s3", region_name=region),
                          boto3.client("glue", region_name=region))
