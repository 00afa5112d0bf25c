"""The catalog interface: tables and partitions, local (a JSON file per table in the lake)
or the Glue Data Catalog. Locations are lake keys (prefixes ending in '/'), relative to the
lake root; each adapter turns them into what its runtime needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Hive/Athena type name: string, date, double, bigint, int, timestamp, boolean


@dataclass
class TableDef:
    database: str
    name: str
    location: str  # lake key prefix
    format: str  # "csv" or "parquet"
    columns: list[Column]
    partition_keys: list[Column] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


@dataclass(frozen=True)
class Partition:
    values: dict[str, str]  # in partition-key order
    location: str  # lake key prefix
    columns: list[Column] | None = None  # set when a partition's schema differs from its table's


class CatalogError(RuntimeError):
    """A catalog call failed; the message names the table and partition."""


class Catalog(Protocol):
    def get_table(self, database: str, name: str) -> TableDef | None: ...

    def create_table(self, table: TableDef, *, replace: bool = False) -> None: ...

    def drop_table(self, database: str, name: str) -> None:
        """Drop the definition only (files are the caller's); missing tables are ignored."""

    def list_tables(self, database: str) -> list[str]: ...

    def list_partitions(self, database: str, name: str) -> list[Partition]: ...

    def add_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Register partitions; ones already registered keep their location."""

    def switch_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Point each partition at its new location (creating it if absent). Readers see the
        old or the new location of a partition, never a mix within it."""

    def drop_partitions(self, database: str, name: str, values: list[dict[str, str]]) -> None: ...
