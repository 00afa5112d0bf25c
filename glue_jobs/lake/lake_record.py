"""The lake's record of itself, `lake.json` at the lake root: which source fills it. Written
through Storage when the lake gets its first run, so an s3:// lake has one too.

A run with another source is refused (a synthetic run on a lake of real prices would replace
them), unless it asks to switch on purpose (`--switch-source`); and synthetic data never
replaces a real provider's, switch or not. A dropped file (`tickerlake load`, inbox/ on S3) is
allowed on any lake and recorded as source "drop" in its own manifest; it never sets the lake's
source, and its bars outrank fetched ones (sql/wap/publish/merge.sql). A lake made before this record existed adopts the
source of its newest ingest manifest (or, with none, is treated as its first run's).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from glue_jobs.lake import layout
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.storage import NotFound, Storage

RECORD_KEY = "lake.json"
SYNTHETIC = "synthetic"
DROP = "drop"  # the source of a dropped file's ingest run (ingestion/drops/land.py)
VERSION = 1


@dataclass(frozen=True)
class LakeSource:
    source: str | None  # None: an empty lake (no record, no ingest yet)
    origin: str  # "record", "manifest <key>", or "empty"


def read_source(storage: Storage) -> LakeSource:
    """The lake's source: its record, else the newest ingest manifest's source, else none."""
    try:
        doc = json.loads(storage.get_bytes(RECORD_KEY))
    except NotFound:
        doc = None
    except ValueError as exc:
        raise ConfigError(f"{storage.uri(RECORD_KEY)} is not valid JSON ({exc}): repair it "
                          "(write {\"source\": \"synthetic\"} or alphavantage, the source its data came from)") from None
    if doc is not None:
        if not isinstance(doc, dict) or not isinstance(doc.get("source"), str) or not doc["source"]:
            raise ConfigError(f"{storage.uri(RECORD_KEY)} names no source: repair it "
                              "(write {\"source\": \"synthetic\"} or alphavantage, the source its data came from)")
        return LakeSource(doc["source"], "record")
    for key in reversed(storage.list_keys(layout.MANIFEST_PREFIX)):
        try:
            source = json.loads(storage.get_bytes(key)).get("source")
        except (NotFound, ValueError, AttributeError):
            continue
        if source and source != DROP:  # a dropped file is a deliberate load, not the lake's source
            return LakeSource(source, f"manifest {key}")
    return LakeSource(None, "empty")


def write_source(storage: Storage, source: str, *, run_id: str, previous: str | None = None) -> None:
    doc = {
        "version": VERSION,
        "source": source,
        "set_by_run": run_id,
        "set_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if previous and previous != source:
        doc["previous_source"] = previous
    storage.put_bytes(RECORD_KEY, (json.dumps(doc, indent=1) + "\n").encode())


def check_source(current: LakeSource, wanted: str, *, switch: bool, where: str) -> None:
    """Pure: refuse `wanted` on a lake of `current` unless it is a deliberate, allowed switch."""
    have = current.source
    if have is None or have == wanted:
        return
    if wanted == SYNTHETIC:
        raise ConfigError(
            f"the lake {where} holds data from {have} ({_said_by(current)}); --source synthetic would "
            f"replace it with made-up prices, which is never done. Run with --source {have} (or set "
            f"TICKERLAKE_SOURCE={have}), or use another --lake for synthetic data")
    if not switch:
        raise ConfigError(
            f"the lake {where} is filled from {have} ({_said_by(current)}), this run asks for {wanted}: "
            f"run with --source {have} (or set TICKERLAKE_SOURCE={have}); to change the lake's source "
            f"on purpose, run once with --source {wanted} --switch-source")


def _said_by(current: LakeSource) -> str:
    return "its lake.json says so" if current.origin == "record" else f"its newest ingest, {current.origin}"
