"""The Glue Data Catalog behind the Catalog interface. Locations in TableDef/Partition are
lake keys; this adapter turns them into s3:// URIs under the lake root and back.

Partition switches go through BatchUpdatePartition, which is not all-or-nothing: every
entry succeeds or fails on its own, so each error is collected and reported by partition."""
from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from glue_jobs.lake import failpoints
from glue_jobs.ports.catalog import CatalogError, Column, Partition, TableDef, partition_filter

# Per-call limits of the Glue API.
CREATE_BATCH = 100
UPDATE_BATCH = 100
DELETE_BATCH = 25
EXPRESSION_MAX_CHARS = 2048  # GetPartitions' Expression

_FORMATS: dict[str, dict[str, Any]] = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
    "csv": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": ",", "serialization.format": ","},
        },
    },
}


def partition_expression(where: Mapping[str, Collection[str]] | None) -> str | None:
    """Pure: GetPartitions' Expression for `where` (key IN ('a', 'b') AND ...), or None when
    there is nothing to filter or it would exceed Glue's length limit (then the caller filters)."""
    if not where:
        return None
    terms = []
    for key, allowed in where.items():
        values = sorted({str(v) for v in allowed})
        if not values:
            return None  # nothing allowed: the caller's own filter keeps none
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        terms.append(f"{key} IN ({quoted})")
    expression = " AND ".join(terms)
    return expression if len(expression) <= EXPRESSION_MAX_CHARS else None


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _values_text(values: dict[str, str] | list[str]) -> str:
    if isinstance(values, dict):
        return ", ".join(f"{k}={v}" for k, v in values.items())
    return ", ".join(values)


class GlueCatalog:
    """Catalog on Glue. `root` is the lake root URI (s3://bucket[/prefix]); `client` an
    optional boto3 Glue client (tests inject a moto one); `catalog_id` the account, if not ours."""

    def __init__(self, root: str, *, client: Any = None, catalog_id: str | None = None):
        self.root = root.rstrip("/") + "/"
        if client is None:
            import boto3

            client = boto3.client("glue")
        self.client = client
        self._catalog = {"CatalogId": catalog_id} if catalog_id else {}

    # -- locations ---------------------------------------------------------------------------

    def location_uri(self, key: str) -> str:
        key = key.lstrip("/")
        return self.root + (key if key.endswith("/") or not key else key + "/")

    def location_key(self, uri: str) -> str:
        """A lake key for a location under the root; a foreign location is returned unchanged."""
        if uri.startswith(self.root):
            key = uri[len(self.root):]
            return key if key.endswith("/") else key + "/"
        if uri.rstrip("/") + "/" == self.root:
            return ""
        return uri

    # -- translation -------------------------------------------------------------------------

    def _storage_descriptor(self, table: TableDef, location: str, columns: list[Column] | None) -> dict:
        fmt = table.format.lower()
        if fmt not in _FORMATS:
            raise CatalogError(f"{table.qualified}: format {table.format!r} is not one of {sorted(_FORMATS)}")
        sd = copy.deepcopy(_FORMATS[fmt])
        if fmt == "csv" and table.properties.get("skip.header.line.count"):
            sd["SerdeInfo"]["Parameters"]["skip.header.line.count"] = table.properties["skip.header.line.count"]
        sd["Columns"] = [{"Name": c.name, "Type": c.type} for c in (columns or table.columns)]
        sd["Location"] = self.location_uri(location)
        return sd

    def _table_input(self, table: TableDef) -> dict:
        params = {"EXTERNAL": "TRUE", "classification": table.format.lower()}
        params.update(table.properties)
        return {
            "Name": table.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": params,
            "StorageDescriptor": self._storage_descriptor(table, table.location, None),
            "PartitionKeys": [{"Name": c.name, "Type": c.type} for c in table.partition_keys],
        }

    def _table_def(self, database: str, glue_table: dict) -> TableDef:
        sd = glue_table.get("StorageDescriptor", {})
        params = dict(glue_table.get("Parameters", {}))
        serde = sd.get("SerdeInfo", {}).get("SerializationLibrary", "")
        fmt = params.get("classification") or ("parquet" if "parquet" in serde.lower() else "csv")
        params.pop("EXTERNAL", None)  # ours, always set; classification stays, as Glue and the code use it
        return TableDef(
            database=database,
            name=glue_table["Name"],
            location=self.location_key(sd.get("Location", "")),
            format=fmt,
            columns=[Column(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
            partition_keys=[Column(c["Name"], c["Type"]) for c in glue_table.get("PartitionKeys", [])],
            properties=params,
        )

    def _partition_input(self, table: TableDef, partition: Partition) -> dict:
        keys = [c.name for c in table.partition_keys]
        missing = [k for k in keys if k not in partition.values]
        if missing or len(partition.values) != len(keys):
            raise CatalogError(
                f"{table.qualified}: partition {_values_text(partition.values)} does not match "
                f"the table's partition keys ({', '.join(keys)})"
            )
        return {
            "Values": [str(partition.values[k]) for k in keys],
            "StorageDescriptor": self._storage_descriptor(table, partition.location, partition.columns),
        }

    def _require_table(self, database: str, name: str) -> TableDef:
        table = self.get_table(database, name)
        if table is None:
            raise CatalogError(f"{database}.{name} does not exist in the Glue catalog: run the crawl/publish first")
        return table

    # -- tables ------------------------------------------------------------------------------

    def get_table(self, database: str, name: str) -> TableDef | None:
        try:
            response = self.client.get_table(DatabaseName=database, Name=name, **self._catalog)
        except Exception as exc:
            if _error_code(exc) == "EntityNotFoundException":
                return None
            raise CatalogError(f"reading {database}.{name} from Glue failed: {exc}") from exc
        return self._table_def(database, response["Table"])

    def create_table(self, table: TableDef, *, replace: bool = False) -> None:
        """Create the table; with replace, an existing definition is updated in place (its
        partitions stay registered, so readers never see the table vanish)."""
        table_input = self._table_input(table)
        try:
            self.client.create_table(DatabaseName=table.database, TableInput=table_input, **self._catalog)
            return
        except Exception as exc:
            if _error_code(exc) != "AlreadyExistsException":
                raise CatalogError(f"creating {table.qualified} in Glue failed: {exc}") from exc
            if not replace:
                raise CatalogError(f"{table.qualified} already exists in the Glue catalog") from exc
        try:
            self.client.update_table(DatabaseName=table.database, TableInput=table_input, **self._catalog)
        except Exception as exc:
            raise CatalogError(f"replacing {table.qualified} in Glue failed: {exc}") from exc

    def drop_table(self, database: str, name: str) -> None:
        """Drop the definition only; the files stay (they are the caller's to delete)."""
        try:
            self.client.delete_table(DatabaseName=database, Name=name, **self._catalog)
        except Exception as exc:
            if _error_code(exc) != "EntityNotFoundException":
                raise CatalogError(f"dropping {database}.{name} in Glue failed: {exc}") from exc

    def list_tables(self, database: str) -> list[str]:
        paginator = self.client.get_paginator("get_tables")
        names: list[str] = []
        for page in paginator.paginate(DatabaseName=database, **self._catalog):
            names.extend(t["Name"] for t in page.get("TableList", []))
        return sorted(names)

    # -- partitions --------------------------------------------------------------------------

    def list_partitions(self, database: str, name: str,
                        where: Mapping[str, Collection[str]] | None = None) -> list[Partition]:
        """Every registered partition (all pages of GetPartitions), sorted by values; with
        `where`, filtered by Glue (an Expression), so a run does not page through the raw
        table's whole history to find its own partitions."""
        table = self._require_table(database, name)
        keys = [c.name for c in table.partition_keys]
        table_columns = [(c.name, c.type) for c in table.columns]
        paginator = self.client.get_paginator("get_partitions")
        expression = partition_expression(where)
        filtered = {"Expression": expression} if expression else {}
        wanted = partition_filter(where)
        out: list[Partition] = []
        for page in paginator.paginate(DatabaseName=database, TableName=name, **filtered, **self._catalog):
            for p in page.get("Partitions", []):
                sd = p.get("StorageDescriptor", {})
                cols = [(c["Name"], c["Type"]) for c in sd.get("Columns", [])]
                out.append(
                    Partition(
                        values=dict(zip(keys, p["Values"])),
                        location=self.location_key(sd.get("Location", "")),
                        columns=[Column(n, t) for n, t in cols] if cols and cols != table_columns else None,
                    )
                )
        # (filtered here too: an Expression too long for Glue is not sent)
        return sorted(filter(wanted, out), key=lambda p: list(p.values.values()))

    def add_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Register partitions; ones already registered keep their location."""
        table = self._require_table(database, name)
        inputs = [self._partition_input(table, p) for p in partitions]
        failures = self._create(table, inputs, ignore_existing=True)
        if failures:
            raise CatalogError(self._failure_text(table, "adding", failures, len(inputs)))

    def switch_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Point each partition at its new location; absent ones are created. Each partition's
        switch is one catalog write, so a reader sees its old or its new location. A partial
        failure names the partitions that did not switch (the others did: re-run to finish)."""
        table = self._require_table(database, name)
        inputs = [self._partition_input(table, p) for p in partitions]
        failures: list[tuple[list[str], str]] = []
        absent: list[dict] = []
        failpoints.hit("catalog.before_write", f"{database}.{name}")
        for start in range(0, len(inputs), UPDATE_BATCH):
            chunk = inputs[start:start + UPDATE_BATCH]
            entries = [{"PartitionValueList": pi["Values"], "PartitionInput": pi} for pi in chunk]
            try:
                response = self.client.batch_update_partition(
                    DatabaseName=database, TableName=name, Entries=entries, **self._catalog
                )
            except Exception as exc:
                failures.extend((pi["Values"], f"{_error_code(exc) or type(exc).__name__}: {exc}") for pi in chunk)
                continue
            by_values = {tuple(pi["Values"]): pi for pi in chunk}
            for err in response.get("Errors", []):
                values = err.get("PartitionValueList", [])
                detail = err.get("ErrorDetail", {})
                if detail.get("ErrorCode") == "EntityNotFoundException" and tuple(values) in by_values:
                    absent.append(by_values[tuple(values)])
                else:
                    failures.append((values, f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"))
        if absent:
            failures.extend(self._create(table, absent, ignore_existing=False))
        failpoints.hit("catalog.after_write", f"{database}.{name}")
        if failures:
            raise CatalogError(self._failure_text(table, "switching", failures, len(inputs)))

    def drop_partitions(self, database: str, name: str, values: list[dict[str, str]]) -> None:
        """Deregister partitions (files stay); missing ones are ignored."""
        table = self._require_table(database, name)
        keys = [c.name for c in table.partition_keys]
        value_lists = [[str(v[k]) for k in keys] for v in values]
        failures: list[tuple[list[str], str]] = []
        for start in range(0, len(value_lists), DELETE_BATCH):
            chunk = value_lists[start:start + DELETE_BATCH]
            response = self.client.batch_delete_partition(
                DatabaseName=database,
                TableName=name,
                PartitionsToDelete=[{"Values": v} for v in chunk],
                **self._catalog,
            )
            for err in response.get("Errors", []):
                detail = err.get("ErrorDetail", {})
                if detail.get("ErrorCode") != "EntityNotFoundException":
                    failures.append((err.get("PartitionValues", []), f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"))
        if failures:
            raise CatalogError(self._failure_text(table, "dropping", failures, len(value_lists)))

    def _create(self, table: TableDef, inputs: list[dict], *, ignore_existing: bool) -> list[tuple[list[str], str]]:
        failures: list[tuple[list[str], str]] = []
        for start in range(0, len(inputs), CREATE_BATCH):
            chunk = inputs[start:start + CREATE_BATCH]
            try:
                response = self.client.batch_create_partition(
                    DatabaseName=table.database, TableName=table.name, PartitionInputList=chunk, **self._catalog
                )
            except Exception as exc:
                failures.extend((pi["Values"], f"{_error_code(exc) or type(exc).__name__}: {exc}") for pi in chunk)
                continue
            for err in response.get("Errors", []):
                detail = err.get("ErrorDetail", {})
                if ignore_existing and detail.get("ErrorCode") == "AlreadyExistsException":
                    continue
                failures.append((err.get("PartitionValues", []), f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"))
        return failures

    @staticmethod
    def _failure_text(table: TableDef, verb: str, failures: list[tuple[list[str], str]], total: int) -> str:
        keys = [c.name for c in table.partition_keys]
        lines = [
            f"  {', '.join(f'{k}={v}' for k, v in zip(keys, values))}: {reason}" for values, reason in failures
        ]
        return (
            f"{verb} partitions of {table.qualified} in Glue failed for {len(failures)} of {total} "
            f"(the others were applied):\n" + "\n".join(lines)
        )
