"""The run log at runs/<run_id>.json: what every stage of one pipeline run did.

Per stage: status, start, end, seconds, counts (the numbers it returned) and details (the
rest, e.g. every audit rule's outcome). Top level: the run's status and totals, with the
reconciliation raw_rows == published_rows + unchanged_rows + quarantined_rows + duplicates_dropped
checked
whenever write_temp, audit and publish all ran; a failing check is logged as an error and
recorded under `problems`.

Loaded and saved through Storage, and a save merges into what is stored (only the fields
and stages this process touched are overwritten), so separate Glue jobs, or a stage that
records a choice mid-run, can each add their part without clobbering the others'.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

from glue_jobs.lake import failpoints, layout
from glue_jobs.lake.errors import AuditBlocked
from glue_jobs.ports.storage import NotFound, Storage

log = logging.getLogger(__name__)

RECONCILIATION = "raw_rows == published_rows + unchanged_rows + quarantined_rows + duplicates_dropped"
_TOTALS_FROM = {
    "raw_rows": "write_temp",
    "duplicates_dropped": "write_temp",
    # rows identical to what was already published: neither audited again nor rewritten
    "unchanged_rows": "write_temp",
    "quarantined_rows": "audit",
    "published_rows": "publish",
}
_INGEST_TOTALS = {
    "symbols_fetched": "symbols_fetched",
    "symbols_failed": "symbols_failed",
    "symbols_carried": "symbols_carried",
    "calls_used": "api_calls",
}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def split_result(result: dict | None) -> tuple[dict, dict]:
    """A stage's returned dict as (counts, details): numbers are counts, the rest details."""
    counts: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for key, value in (result or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            counts[key] = value
        else:
            details[key] = value
    return counts, details


def compute_totals(stages: dict[str, dict]) -> dict:
    """Pure: the run's totals and reconciliation from its stage entries."""
    totals: dict[str, Any] = {}
    for name, stage in _TOTALS_FROM.items():
        totals[name] = int(stages.get(stage, {}).get("counts", {}).get(name, 0) or 0)
    ingest = stages.get("ingest", {}).get("counts", {})
    for name, source in _INGEST_TOTALS.items():
        if source in ingest:
            totals[name] = ingest[source]
    ran = all(stages.get(s, {}).get("status") == "succeeded" for s in ("write_temp", "audit", "publish"))
    if ran:
        accounted = (totals["published_rows"] + totals["unchanged_rows"] + totals["quarantined_rows"]
                     + totals["duplicates_dropped"])
        totals["reconciled"] = accounted == totals["raw_rows"]
        totals["reconciliation"] = {
            "check": RECONCILIATION,
            "ok": totals["reconciled"],
            "difference": totals["raw_rows"] - accounted,
        }
    else:
        totals["reconciled"] = None
        totals["reconciliation"] = {"check": RECONCILIATION, "ok": None,
                                    "note": "not checked: write_temp, audit and publish did not all succeed"}
    return totals


class RunLog:
    """One run's log. `start` begins a new one; `load_or_new` joins one (a Glue job)."""

    def __init__(self, storage: Storage, run_id: str, doc: dict):
        self.storage = storage
        self.run_id = run_id
        self.doc = doc
        self._touched: set[str] = set()
        self._touched_stages: set[str] = set()
        self._clock: dict[str, float] = {}
        self._written: bytes | None = None  # what this log last wrote (or read) as the stored log

    @property
    def key(self) -> str:
        return layout.run_log_key(self.run_id)

    @classmethod
    def _blank(cls, run_id: str) -> dict:
        return {"run_id": run_id, "status": "running", "started_at": _now(), "stages": {}, "problems": []}

    @classmethod
    def start(cls, storage: Storage, *, run_id: str, as_of: str | None = None,
              stages: list[str] | None = None, settings: dict | None = None) -> RunLog:
        """A new run's log, saved at once so `tickerlake runs` shows it while it runs."""
        run_log = cls.load_or_new(storage, run_id)
        for key, value in (("as_of", as_of), ("settings", settings or {}), ("stage_order", list(stages or []))):
            run_log.set(key, value)
        run_log.set("status", "running")
        for name in stages or []:
            if name not in run_log.doc["stages"]:
                run_log._stage(name).update(status="pending")
        run_log.save()
        return run_log

    @classmethod
    def load(cls, storage: Storage, run_id: str) -> RunLog:
        return cls(storage, run_id, json.loads(storage.get_bytes(layout.run_log_key(run_id))))

    @classmethod
    def load_or_new(cls, storage: Storage, run_id: str) -> RunLog:
        try:
            return cls.load(storage, run_id)
        except NotFound:
            return cls(storage, run_id, cls._blank(run_id))

    # -- fields ------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        return self.doc.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.doc[key] = value
        self._touched.add(key)

    def _stage(self, name: str) -> dict:
        self._touched_stages.add(name)
        return self.doc.setdefault("stages", {}).setdefault(name, {})

    @property
    def totals(self) -> dict:
        return compute_totals(self.doc.get("stages", {}))

    # -- stages ------------------------------------------------------------------------------

    def stage_started(self, name: str) -> None:
        self._clock[name] = time.monotonic()
        stage = self._stage(name)
        stage.clear()
        stage.update(status="running", started_at=_now())

    def _ended(self, name: str) -> dict:
        stage = self._stage(name)
        stage["finished_at"] = _now()
        if name in self._clock:
            stage["seconds"] = round(time.monotonic() - self._clock.pop(name), 3)
        return stage

    def stage_finished(self, name: str, result: dict | None) -> None:
        counts, details = split_result(result)
        stage = self._ended(name)
        stage.update(status="succeeded", counts=counts, details=details)

    def stage_failed(self, name: str, exc: BaseException) -> None:
        stage = self._ended(name)
        blocked = isinstance(exc, AuditBlocked)
        counts, details = split_result(getattr(exc, "details", None))
        stage.update(
            status="blocked" if blocked else "failed",
            error=str(exc),
            error_type=type(exc).__name__,
            exit_code=getattr(exc, "exit_code", 1),
            counts=counts,
            details=details,
        )

    def finish(self) -> None:
        statuses = [s.get("status") for s in self.doc.get("stages", {}).values()]
        status = "failed" if "failed" in statuses else "blocked" if "blocked" in statuses else "succeeded"
        self.set("status", status)
        self.set("finished_at", _now())
        try:
            started = dt.datetime.fromisoformat(self.doc["started_at"])
            self.set("seconds", round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3))
        except (KeyError, ValueError):
            pass

    # -- persistence -------------------------------------------------------------------------

    def save(self, *, durable: bool = True) -> None:
        """Merge what this process changed into the stored log and write it back. `durable`
        False: visible at once, on disk with the next durable save (see Storage.put_bytes)."""
        try:
            raw = self.storage.get_bytes(self.key)
        except NotFound:
            stored = self._blank(self.run_id)
        else:
            # unchanged since this log wrote it: its own document is what is stored (a big run's
            # log, thousands of fetches, is saved at every stage step)
            stored = self.doc if raw == self._written else json.loads(raw)
        for key in self._touched:
            stored[key] = self.doc.get(key)
        stages = stored.setdefault("stages", {})
        for name in self._touched_stages:
            stages[name] = self.doc["stages"][name]
        order = stored.get("stage_order") or []
        stored["stages"] = {n: stages[n] for n in [*order, *sorted(set(stages) - set(order))] if n in stages}
        totals = compute_totals(stored["stages"])
        stored["totals"] = totals
        problems = [p for p in stored.get("problems", []) if not str(p).startswith("reconciliation failed")]
        if totals["reconciled"] is False:
            message = (
                f"reconciliation failed for run {self.run_id}: raw_rows {totals['raw_rows']} != published "
                f"{totals['published_rows']} + unchanged {totals['unchanged_rows']} + quarantined "
                f"{totals['quarantined_rows']} + duplicates dropped "
                f"{totals['duplicates_dropped']} (difference {totals['reconciliation']['difference']})"
            )
            log.error(message)
            problems.append(message)
        stored["problems"] = problems
        stored["updated_at"] = _now()
        failpoints.hit("run_log.before_write", self.run_id)
        # compact: a big run's log lists thousands of fetches and is saved at every stage step
        data = json.dumps(stored, separators=(",", ":"), default=str).encode() + b"\n"
        self.storage.put_bytes(self.key, data, durable=durable)
        self._written = data
        self.doc = stored
        self._touched.clear()
        self._touched_stages.clear()


def summary(doc: dict) -> dict:
    """One row for `tickerlake runs`."""
    totals = doc.get("totals") or compute_totals(doc.get("stages", {}))
    return {
        "run_id": doc.get("run_id"),
        "started_at": doc.get("started_at"),
        "as_of": doc.get("as_of"),
        "status": doc.get("status"),
        "seconds": doc.get("seconds"),
        "raw_rows": totals.get("raw_rows"),
        "published_rows": totals.get("published_rows"),
        "unchanged_rows": totals.get("unchanged_rows"),
        "quarantined_rows": totals.get("quarantined_rows"),
        "duplicates_dropped": totals.get("duplicates_dropped"),
        "reconciled": totals.get("reconciled"),
    }


def list_runs(storage: Storage, limit: int | None = 20) -> list[dict]:
    """The newest runs first (run ids sort by start time), one summary row each."""
    keys = [k for k in storage.list_keys(layout.RUNS_PREFIX) if k.endswith(".json")]
    keys.sort(reverse=True)
    rows = []
    for key in keys[:limit] if limit else keys:
        try:
            rows.append(summary(json.loads(storage.get_bytes(key))))
        except (ValueError, NotFound) as exc:
            # every column still there (a table's columns follow its first row), the rest empty
            rows.append({**dict.fromkeys(summary({})), "run_id": key.rsplit("/", 1)[-1][:-5],
                         "status": f"unreadable run log: {exc}"})
    return rows
