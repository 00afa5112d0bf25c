"""The catalog interface: tables and partitions, local (a JSON file per table in the lake)
or the Glue Data Catalog. Locations are lake keys (prefixes ending in '/'), relative to the
lake root; each adapter turns them into what its runtime needs."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Callable, Protocol


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


def partition_filter(where: Mapping[str, Collection[str]] | None) -> Callable[[Partition], bool]:
    """Pure: a test that a partition's value of every key in `where` is among the allowed."""
    wanted = {k: {str(v) for v in allowed} for k, allowed in (where or {}).items()}
    return lambda p: all(str(p.values.get(k)) in allowed for k, allowed in wanted.items())


class CatalogError(RuntimeError):
    """A catalog call failed; the message names the table and partition."""


class Catalog(Protocol):
    def get_table(self, database: str, name: str) -> TableDef | None: ...

    def create_table(self, table: TableDef, *, replace: bool = False) -> None: ...

    def drop_table(self, database: str, name: str) -> None:
        """Drop the definition only (files are the caller's); missing tables are ignored."""

    def list_tables(self, database: str) -> list[str]: ...

    def list_partitions(self, database: str, name: str,
                        where: Mapping[str, Collection[str]] | None = None) -> list[Partition]:
        """Registered partitions, sorted by values; with `where`, only those whose value of
        each named key is one of the given (a run asks for its own, not the history's)."""

    def add_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Register partitions; ones already registered keep their location."""

    def switch_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Point each partition at its new location (creating it if absent). Readers see the
        old or the new location of a partition, never a mix within it."""

    def drop_partitions(self, database: str, name: str, values: list[dict[str, str]]) -> None: ...
