"""The published manifest (pure): what one publish or rollback switched in stocks.daily_prices,
written to manifests/published/<run_id>.json after the catalog switch. Its creation is the
event that feeds the serving table (S3 -> EventBridge -> SQS -> the loader on AWS; the local
queue locally), so the serving table only ever sees what publish published.

    {"run_id": R, "table": "daily_prices", "version": R,
     "partitions": [{"values": {"trade_year": "2024"}, "location": "warehouse/...",
                     "previous_location": "warehouse/..." | null,
                     "changes": "manifests/published/changes/..." (optional)}]}

`version` orders the serving table's rows: run ids sort as text in the order runs started, and
a rollback, a run of its own started later, carries a higher version than what it undoes."""
from __future__ import annotations

import json
from dataclasses import dataclass

from glue_jobs.lake import layout

TABLE = layout.PUBLISHED_TABLE


class ManifestError(ValueError):
    """A published manifest that cannot be used, with why."""


@dataclass(frozen=True)
class PublishedPartition:
    values: dict[str, str]
    location: str
    previous_location: str | None
    changes: str | None = None  # where publish kept the rows it changed (glue_jobs/lake/published_changes.py)


@dataclass(frozen=True)
class PublishedManifest:
    run_id: str
    table: str
    version: str
    partitions: tuple[PublishedPartition, ...]


def build(run_id: str, switched: dict[str, tuple[str, str | None]], *, table: str = TABLE) -> dict:
    """The manifest of `switched` (trade_year -> (new location, previous location or None))."""
    return {
        "run_id": run_id,
        "table": table,
        "version": run_id,
        "partitions": [{"values": {"trade_year": str(year)}, "location": location, "previous_location": previous}
                       for year, (location, previous) in sorted(switched.items())],
    }


def to_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def parse(data: bytes, *, key: str = "") -> PublishedManifest:
    """The manifest in `data`; raises ManifestError naming `key` and what is wrong."""
    where = f"published manifest {key}" if key else "published manifest"
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{where} is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{where} is not a JSON object")
    missing = [f for f in ("run_id", "table", "version", "partitions") if f not in doc]
    if missing:
        raise ManifestError(f"{where} lacks {', '.join(missing)}")
    if doc["table"] != TABLE:
        raise ManifestError(f"{where} is for table {doc['table']!r}; the serving table is fed from {TABLE}")
    if not isinstance(doc["version"], str) or not doc["version"]:
        raise ManifestError(f"{where}: version {doc['version']!r} is not a run id")
    if not isinstance(doc["partitions"], list):
        raise ManifestError(f"{where}: partitions is not a list")
    parts = []
    for n, p in enumerate(doc["partitions"]):
        ok = (isinstance(p, dict) and isinstance(p.get("values"), dict) and isinstance(p.get("location"), str)
              and p["location"] and (p.get("previous_location") is None or isinstance(p["previous_location"], str)))
        if not ok:
            raise ManifestError(f"{where}: partition {n} needs values, location and previous_location (or null)")
        changes = p.get("changes")
        if changes is not None and not (isinstance(changes, str) and changes):
            raise ManifestError(f"{where}: partition {n}: changes must name a location, not {changes!r}")
        parts.append(PublishedPartition({str(k): str(v) for k, v in p["values"].items()}, p["location"],
                                        p.get("previous_location"), changes))
    return PublishedManifest(str(doc["run_id"]), doc["table"], doc["version"], tuple(parts))


def from_publish_record(run_id: str, record: dict | None) -> dict | None:
    """The manifest of run `run_id` from its run log's publish record (published_partitions), for
    the partitions of daily_prices it switched; None when it switched none."""
    parts = (record or {}).get(TABLE) or {}
    if not parts:
        return None
    return build(run_id, {year: (entry["location"], entry.get("previous")) for year, entry in parts.items()})
