"""Land a dropped file in the raw zone as an ingest run of its own (source "drop"), once per
content, or keep it in rejected/ with its reason.

Crash points converge: the create-only marker manifests/drops/sha256=H.json is written first
("landing", with the run id, ingest date and time it will use), then the file's bytes, the raw
bodies and the ingest manifest (deterministic keys and contents, so writing them again is
harmless), then the marker says "landed". A replay finds "landed" and changes nothing; a replay
after a crash finds "landing" and finishes the same ingest run. Two handlers racing on one
message: the second's create-only write fails and it finishes (or skips) the first's run.
WAP picks the run up like any fetch once its manifest exists: the manifest is written last.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from glue_jobs.lake import failpoints, layout
from glue_jobs.lake.context import new_run_id
from glue_jobs.ports.storage import AlreadyExists, NotFound, Storage, put_json
from ingestion.alphavantage.parse import forming_date_at
from ingestion.drops.parse import DropRejected, ParsedDrop, content_sha256, parse_drop

log = logging.getLogger(__name__)

SOURCE = "drop"
MANIFEST_VERSION = 1
LANDED = "landed"
ALREADY_LANDED = "already_landed"
REJECTED = "rejected"


@dataclass
class DropOutcome:
    status: str  # landed | already_landed | rejected
    name: str
    sha256: str
    run_id: str | None = None  # the drop's ingest run
    ingest_date: str | None = None
    format: str | None = None
    symbols: dict[str, int] = field(default_factory=dict)  # symbol -> rows landed
    manifest_key: str | None = None
    received_key: str | None = None
    rejected_key: str | None = None
    reason_key: str | None = None
    problems: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    workflow_run_id: str | None = None  # on AWS: the WAP workflow run started for this drop

    @property
    def rows(self) -> int:
        return sum(self.symbols.values())


def new_drop_run_id(now: dt.datetime | None = None) -> str:
    """A run id that says it is a drop's (layout.DROP_RUN_MARK): 20261130T153247Z-drop-3f9a1c."""
    stamp, _, suffix = new_run_id(now).partition("-")
    return f"{stamp}{layout.DROP_RUN_MARK}{suffix}"


def land_drop(storage: Storage, data: bytes, name: str, *, as_of: dt.date, symbol: str | None = None,
              run_id: str | None = None, now: dt.datetime | None = None) -> DropOutcome:
    """Land `data` (a file named `name`) once; a second drop of the same bytes changes nothing."""
    now = now or dt.datetime.now(dt.timezone.utc)
    sha = content_sha256(data)
    marker_key = layout.drop_marker_key(sha)
    marker = _read_marker(storage, marker_key)
    if marker and marker.get("status") == LANDED:
        return _already(marker, name, sha)
    try:
        parsed = parse_drop(data, name, symbol)
    except DropRejected as exc:
        return _reject(storage, data, name, sha, exc, now)
    if marker is None:
        marker = {"status": "landing", "sha256": sha, "name": name, "run_id": run_id or new_drop_run_id(now),
                  "ingest_date": as_of.isoformat(), "fetched_at": now.isoformat(), "symbol_flag": symbol}
        try:
            put_json(storage, marker_key, marker, create_only=True)
        except AlreadyExists:  # another handler got the same file first: finish or skip its run
            marker = _read_marker(storage, marker_key) or marker
            if marker.get("status") == LANDED:
                return _already(marker, name, sha)
    failpoints.hit("drop.after_marker", marker_key)
    outcome = _write(storage, data, parsed, marker)
    marker = dict(marker, status=LANDED, manifest_key=outcome.manifest_key, symbols=outcome.symbols,
                  format=parsed.format, rows=parsed.rows)
    failpoints.hit("drop.before_landed", marker_key)
    put_json(storage, marker_key, marker)
    return outcome


def record_workflow_start(storage: Storage, sha256: str, workflow_run_id: str) -> None:
    """Say in the drop's marker which workflow run publishes it: the same content dropped again
    before that run publishes starts no second one (a later WAP publishes it anyway, should that
    run fail)."""
    key = layout.drop_marker_key(sha256)
    marker = _read_marker(storage, key)
    if marker is not None and marker.get("status") == LANDED:
        put_json(storage, key, dict(marker, workflow_run_id=workflow_run_id))


def _read_marker(storage: Storage, key: str) -> dict | None:
    try:
        doc = json.loads(storage.get_bytes(key))
    except NotFound:
        return None
    except ValueError:
        log.warning("drop marker %s is not JSON; landing the file again under a new marker", key)
        return None
    return doc if isinstance(doc, dict) else None


def _already(marker: dict, name: str, sha: str) -> DropOutcome:
    return DropOutcome(ALREADY_LANDED, name, sha, run_id=marker.get("run_id"), ingest_date=marker.get("ingest_date"),
                       format=marker.get("format"), symbols=dict(marker.get("symbols") or {}),
                       manifest_key=marker.get("manifest_key"), workflow_run_id=marker.get("workflow_run_id"))


def _reject(storage: Storage, data: bytes, name: str, sha: str, exc: DropRejected, now: dt.datetime) -> DropOutcome:
    body_key, reason_key = layout.drop_rejected_key(sha, name), layout.drop_reason_key(sha, name)
    if not storage.exists(reason_key):  # the same bad file again: the first reason stands
        storage.put_bytes(body_key, data)
        lines = [f"{name} was not landed: every problem below must be fixed, then drop the file again.",
                 f"rejected at {now.isoformat(timespec='seconds')}, sha256 {sha}", ""]
        storage.put_bytes(reason_key, ("\n".join(lines + exc.problems) + "\n").encode())
    log.info("drop %s rejected: %s", name, exc)
    return DropOutcome(REJECTED, name, sha, rejected_key=body_key, reason_key=reason_key, problems=exc.problems)


def _write(storage: Storage, data: bytes, parsed: ParsedDrop, marker: dict) -> DropOutcome:
    run_id, ingest_date, fetched_at = marker["run_id"], marker["ingest_date"], marker["fetched_at"]
    fetched = dt.datetime.fromisoformat(fetched_at)
    received_key = layout.drop_received_key(parsed.sha256, parsed.name)
    storage.put_bytes(received_key, data)
    objects = [_object(received_key, "received", "", data)]
    records = {}
    for symbol in sorted(parsed.bars):
        body = parsed.body(symbol)
        key = layout.raw_key(ingest_date, symbol, run_id, "csv")
        storage.put_bytes(key, body)
        failpoints.hit("drop.after_body", key)
        objects.append(_object(key, "raw", symbol, body))
        newest = max(bar.date for bar in parsed.bars[symbol])
        records[symbol] = {"symbol": symbol, "status": "fetched", "kind": "data", "raw_key": key, "csv_key": None,
                           "rows": len(parsed.bars[symbol]), "bytes": len(body), "sha256": content_sha256(body),
                           "fetched_at": fetched_at, "last_refreshed": newest,
                           "forming_date": forming_date_at(newest, fetched), "attempts": 0,
                           "rejected_keys": [], "message": f"dropped file {parsed.name}"}
    rows = {s: r["rows"] for s, r in records.items()}
    manifest_key = layout.manifest_key(ingest_date, run_id)
    put_json(storage, manifest_key, {
        "version": MANIFEST_VERSION, "run_id": run_id, "as_of": ingest_date, "ingest_date": ingest_date,
        "source": SOURCE, "status": "ok", "started_at": fetched_at, "finished_at": fetched_at, "start": None,
        "plan": sorted(records), "symbols": records, "carried": [], "problems": [], "stop_reason": None,
        "drop": {"name": parsed.name, "sha256": parsed.sha256, "format": parsed.format, "received_key": received_key,
                 "ignored_columns": parsed.ignored_columns},
        "totals": {"symbols_planned": len(records), "symbols_fetched": len(records), "raw_objects": len(records),
                   "raw_rows": parsed.rows, "api_calls": 0},
        "objects": objects,
    })
    return DropOutcome(LANDED, parsed.name, parsed.sha256, run_id=run_id, ingest_date=ingest_date,
                       format=parsed.format, symbols=rows, manifest_key=manifest_key, received_key=received_key,
                       ignored_columns=list(parsed.ignored_columns))


def _object(key: str, role: str, symbol: str, data: bytes) -> dict:
    return {"key": key, "role": role, "symbol": symbol, "bytes": len(data), "sha256": content_sha256(data)}
