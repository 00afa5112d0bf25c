"""The SQL engine interface. Every statement handed to an engine is in Athena's dialect
(Trino); DuckDB transpiles it with sqlglot. Table names are `stocks.<table>` as the
catalog knows them. DDL differs per engine, so it is the engine's job, not the SQL files'."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only for annotations: the Lambda bundle imports RunContext without pyarrow
    import pyarrow as pa


class QueryError(RuntimeError):
    """A query failed, was cancelled or timed out; the message names the stage and the SQL file."""


class Engine(Protocol):
    def query(self, sql: str) -> pa.Table:
        """Run a SELECT and return its rows."""

    def read_only_query(self, sql: str, *, batch_rows: int = 10_000) -> pa.RecordBatchReader:
        """Run a user's query (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN; checked first by
        glue_jobs.lake.query_guard) and stream its rows in batches; the caller may stop early.
        An engine that can enforce it refuses anything else itself and reads no file outside
        the catalog's tables."""

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing useful (CREATE VIEW, DROP VIEW)."""

    def write_parquet(self, select_sql: str, location: str, *, cluster_by: str | None = None) -> list[str]:
        """Run a SELECT and write its result as Parquet under the lake key prefix `location`,
        which must not hold files yet (CTAS semantics). Returns the keys written. `cluster_by`
        names a column the engine may split the files by (one value per file), a hint for
        big writes that later readers filter on; the table stays unpartitioned either way."""
