"""Athena behind the Engine interface, through boto3's Athena API.

Every query runs in one workgroup whose enforced configuration decides where results go,
how they are encrypted and how many bytes a query may scan, so nothing here sets those.

`write_parquet` is an UNLOAD into a fresh, empty prefix, not a CTAS: a workgroup that enforces
its configuration refuses a CTAS with `external_location` at StartQueryExecution ("...submitted
with an 'external_location' property to an Athena Workgroup that enforces a centralized output
location for all queries...", docs.aws.amazon.com/athena/latest/ug/workgroups-troubleshooting.html;
dbt-labs/dbt-athena#176), and without it a CTAS writes under the workgroup's results location
(<output>/tables/<query-id>/), which expires. UNLOAD's TO location is not overridden by an
enforced workgroup (aws/aws-sdk-pandas#1200, fixed in #1216: "Athena does not enforce a Query
Result Location for UNLOAD"), its files are encrypted by the query-results encryption the
workgroup enforces (docs .../ug/unload.html, "Encryption"), it refuses a non-empty location like
a CTAS, and it creates no table definition, so there is nothing to drop afterwards.

boto3 rather than awswrangler: we need the query's terminal state and reason to name the
SQL file in errors, our result sets are small (audit counts, alert candidates), and the
Glue job then needs no extra library beyond the wheel.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
import time
from typing import Any, Callable

import pyarrow as pa

from glue_jobs.ports.engine import QueryError
from glue_jobs.ports.storage import Storage

# StartQueryExecution's QueryString: at most 262,144 bytes, a quota AWS cannot raise
# (docs .../ug/service-limits.html; Athena answers InvalidRequestException "...at 'queryString'
# failed to satisfy constraint: Member must have length less than or equal to 262144").
MAX_QUERY_BYTES = 262_144

_SQL_FILE_RE = re.compile(r"--\s*(?:(?:file|source|sql)\s*:\s*)?(\S+\.sql)\b", re.IGNORECASE)

_INT_TYPES = {"tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32(), "int": pa.int32(),
              "bigint": pa.int64()}
_FLOAT_TYPES = {"double": pa.float64(), "float": pa.float32(), "real": pa.float32()}


def describe_sql(sql: str) -> str:
    """What to call a statement in an error: its SQL file when a comment names one
    (sql_files renders `-- sql/<name>.sql` at the top), else its first line."""
    match = _SQL_FILE_RE.search(sql)
    if match:
        return match.group(1)
    for line in sql.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            return f"statement {line[:80]!r}"
    return "an empty statement"


def _arrow_type(info: dict) -> pa.DataType:
    name = str(info.get("Type", "varchar")).lower()
    if name in _INT_TYPES:
        return _INT_TYPES[name]
    if name in _FLOAT_TYPES:
        return _FLOAT_TYPES[name]
    if name == "boolean":
        return pa.bool_()
    if name == "date":
        return pa.date32()
    if name.startswith("timestamp"):
        return pa.timestamp("us")
    if name == "decimal":
        return pa.decimal128(int(info.get("Precision") or 38), int(info.get("Scale") or 0))
    return pa.string()


def _convert(text: str | None, arrow_type: pa.DataType) -> Any:
    if text is None:
        return None
    if pa.types.is_integer(arrow_type):
        return int(text)
    if pa.types.is_floating(arrow_type):
        return float(text)
    if pa.types.is_boolean(arrow_type):
        return text.lower() == "true"
    if pa.types.is_date(arrow_type):
        return dt.date.fromisoformat(text)
    if pa.types.is_timestamp(arrow_type):
        # Athena prints "2026-11-20 22:00:01.123" (fraction optional, up to 9 digits).
        value = dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
        frac = re.match(r"\.(\d+)", text[19:])
        return value.replace(microsecond=int(frac.group(1)[:6].ljust(6, "0"))) if frac else value
    if pa.types.is_decimal(arrow_type):
        return decimal.Decimal(text)
    return text


class AthenaEngine:
    """Run Athena SQL in `workgroup`, with `database` as the default schema.

    `storage` is the lake (an S3Storage) so UNLOAD targets are lake keys like everywhere else.
    `client` is an optional boto3 Athena client (tests inject moto or stubbed ones);
    `sleep`/`clock` let tests drive the polling loop."""

    def __init__(
        self,
        *,
        workgroup: str,
        storage: Storage,
        database: str = "stocks",
        client: Any = None,
        poll_seconds: float = 1.0,
        max_poll_seconds: float = 10.0,
        timeout_seconds: float = 30 * 60,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if client is None:
            import boto3

            client = boto3.client("athena")
        self.client = client
        self.workgroup = workgroup
        self.storage = storage
        self.database = database
        self.poll_seconds = poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.clock = clock

    # -- the Engine interface ----------------------------------------------------------------

    def query(self, sql: str, *, label: str | None = None) -> pa.Table:
        """Run a SELECT and return its rows, typed from Athena's column metadata."""
        execution_id = self.run(sql, label=label)
        return self._results(execution_id)

    def read_only_query(self, sql: str, *, batch_rows: int = 10_000) -> pa.RecordBatchReader:
        """A user's query (the CLI has checked it is one; Athena itself reads no local file).
        Athena pages its results; here they are read whole, then handed out in batches."""
        table = self.query(sql, label="query")
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_rows))

    def execute(self, sql: str, *, label: str | None = None) -> None:
        """Run a statement whose result does not matter (CREATE VIEW, DROP VIEW)."""
        self.run(sql, label=label)

    def write_parquet(self, select_sql: str, location: str, *, label: str | None = None,
                      cluster_by: str | None = None) -> list[str]:
        """UNLOAD the SELECT as Parquet into the empty lake prefix `location`; returns the keys
        written. `cluster_by` is a hint Athena does without: it writes files in parallel and
        readers prune row groups by their statistics (a top-level ORDER BY still sorts each file)."""
        label = label or describe_sql(select_sql)
        location = location if location.endswith("/") else location + "/"
        existing = self.storage.list_keys(location)
        if existing:
            raise QueryError(
                f"{label}: refusing to write into {self.storage.uri(location)}: it already holds "
                f"{len(existing)} object(s) (e.g. {existing[0]}); Athena writes only into an empty, fresh location"
            )
        select = select_sql.strip().rstrip(";").strip()
        # No partitioned_by: every write is one partition's version (publish, ledger) or one
        # unpartitioned temporary table (write_temp), so Athena's 100-partitions-per-statement
        # limit (HIVE_TOO_MANY_OPEN_PARTITIONS) cannot be reached here.
        unload = (
            f"UNLOAD (\n{select}\n)\n"
            f"TO '{self.storage.uri(location)}'\n"
            f"WITH (format = 'PARQUET', compression = 'SNAPPY')"
        )
        self.run(unload, label=label)
        return self.storage.list_keys(location)

    # -- running ------------------------------------------------------------------------------

    def run(self, sql: str, *, label: str | None = None) -> str:
        """Start a statement and wait until it ends; returns the execution id or raises
        QueryError naming the SQL file, the workgroup and Athena's reason."""
        label = label or describe_sql(sql)
        size = len(sql.encode("utf-8"))
        if size > MAX_QUERY_BYTES:
            raise QueryError(
                f"{label} is {size:,} bytes long; Athena runs statements of at most {MAX_QUERY_BYTES:,} bytes "
                f"(a quota AWS cannot raise), so it was not sent. A statement this long carries a long "
                f"list of values (ingest run ids, symbols): process fewer at a time."
            )
        try:
            started = self.client.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self.database},
                WorkGroup=self.workgroup,
            )
        except Exception as exc:
            raise QueryError(f"{label}: Athena refused to start it in workgroup {self.workgroup}: {exc}") from exc
        execution_id = started["QueryExecutionId"]
        self._wait(execution_id, label)
        return execution_id

    def _wait(self, execution_id: str, label: str) -> None:
        deadline = self.clock() + self.timeout_seconds
        delay = self.poll_seconds
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or ""
            where = f"in workgroup {self.workgroup} (query {execution_id})"
            if state == "FAILED":
                raise QueryError(f"{label} failed {where}: {reason or 'Athena gave no reason'}")
            if state == "CANCELLED":
                raise QueryError(
                    f"{label} was cancelled {where}: {reason or 'no reason given'}. A query stops this way "
                    f"when someone cancels it or it scans more than the workgroup's bytes-scanned cutoff"
                )
            if self.clock() >= deadline:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryError(
                    f"{label} did not finish within {self.timeout_seconds:.0f} s {where} (last state {state}); "
                    f"it was cancelled"
                )
            self.sleep(delay)
            delay = min(delay * 2, self.max_poll_seconds)

    def _results(self, execution_id: str) -> pa.Table:
        paginator = self.client.get_paginator("get_query_results")
        columns: list[dict] = []
        rows: list[list[str | None]] = []
        first = True
        for page in paginator.paginate(QueryExecutionId=execution_id):
            result = page.get("ResultSet", {})
            if not columns:
                columns = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            page_rows = [[cell.get("VarCharValue") for cell in r.get("Data", [])] for r in result.get("Rows", [])]
            # The first row of a SELECT's first page repeats the column labels.
            if first and page_rows and page_rows[0] == [c.get("Label", c.get("Name")) for c in columns]:
                page_rows = page_rows[1:]
            first = False
            rows.extend(page_rows)
        names = [c.get("Label") or c.get("Name") for c in columns]
        types = [_arrow_type(c) for c in columns]
        arrays = [
            pa.array([_convert(row[i] if i < len(row) else None, t) for row in rows], type=t)
            for i, t in enumerate(types)
        ]
        return pa.Table.from_arrays(arrays, schema=pa.schema(list(zip(names, types))))
