"""The storage port: one interface for the lake in a local directory and in an S3 bucket.

Keys are always '/'-separated and relative to the lake root, so every other module
builds keys with `glue_jobs.lake.layout` and never knows where the lake lives.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class StorageError(RuntimeError):
    """A storage call failed; the message names the key."""


class NotFound(StorageError):
    pass


class AlreadyExists(StorageError):
    """A create-only write found the key already there (a lock, a marker)."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object as a listing sees it: for cleanup, which needs sizes and ages."""

    key: str
    size: int
    modified: dt.datetime | None  # UTC; None when the store cannot say


class Storage(Protocol):
    root: str

    def uri(self, key: str) -> str:
        """Where an engine reads the key: an absolute path or an s3:// URI."""

    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False, durable: bool = True) -> None:
        """Write the whole object atomically; with create_only, raise AlreadyExists if present.
        With durable=False the object is visible at once but may be lost in a power cut until
        `flush` returns: a caller landing thousands of objects syncs them once, not each."""

    def flush(self) -> None:
        """Make every write made so far durable (those written with durable=False included)."""

    def get_bytes(self, key: str) -> bytes:
        """Read the whole object or raise NotFound."""

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str) -> list[str]:
        """Every key below prefix, recursively, sorted."""

    def delete(self, keys: Iterable[str]) -> None:
        """Delete keys; missing ones are ignored."""

    def carry(self, source: str, dest: str) -> None:
        """Make `dest` hold `source`'s bytes without reading them here (publish takes a version's
        untouched files into the next version this way): a hard link locally, a server-side
        copy on S3. `dest` must not exist (AlreadyExists); a missing `source` is NotFound.
        Either way deleting one key later leaves the other intact, so the janitor removing an
        old version never takes a file a newer version still lists."""

    # Optional (the janitor falls back to list_keys without ages when a Storage lacks it):
    # def list_objects(self, prefix: str) -> list[ObjectInfo]
    # Optional (the crawl falls back to get_bytes): the first `size` bytes of an object.
    # def get_head(self, key: str, size: int) -> bytes
    # Optional (glue_jobs.lake.parquet falls back to get_bytes, the object read whole): a
    # file pyarrow reads in ranges, a Parquet footer first, then only the row groups it needs.
    # def input_file(self, key: str) -> pyarrow.NativeFile


def put_json(storage: Storage, key: str, obj: object, *, create_only: bool = False) -> None:
    storage.put_bytes(
        key, json.dumps(obj, indent=2, sort_keys=True, default=str).encode() + b"\n", create_only=create_only
    )


def get_json(storage: Storage, key: str) -> object:
    return json.loads(storage.get_bytes(key))
