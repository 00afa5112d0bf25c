"""What a fan-out run keeps in the lake, beside the raw zone it lands in:

    fanout/days/ingest_date=D.json                 the day's run (create-only: a planner retried
                                                   the same day re-enqueues into the same run)
    fanout/days/ingest_date=D/NN.json              the day's later runs (02, 03, ...: create-only), each for
                                                   symbols no earlier run of the day planned, made
                                                   once the one before was handed to the WAP
    fanout/run_id=R/plan.json                      the planned symbols, carried ones first
    fanout/run_id=R/attempts/S/<n>-<id>.json       every receive of S: what it landed, what came next
    fanout/run_id=R/fetching/S/NN.json             who is fetching S now (numbered create-only claims, each
                                                   with a lease: a duplicate delivery waits, a dead holder's
                                                   claim is taken over once its lease ends)
    fanout/run_id=R/settled/S.json                 S's final outcome (create-only: first one wins)
    fanout/run_id=R/claims/NN.json                 who is finishing the drained run (create-only, numbered:
                                                   a claim given back or gone stale is followed by the next)
    fanout/malformed/<message id>.json             a body that was no task (dead-lettered), until the run
                                                   it names (or, naming none, the next to finish) lists it
    fanout/run_id=R/started.json                   the WAP was started: written after the start succeeded

The drained run's ingest manifest (manifests/ingest/...) is written from these at the end, so the
WAP never sees a half-landed run.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from glue_jobs.ports.storage import AlreadyExists, NotFound, Storage, put_json

PREFIX = "fanout/"


def day_key(ingest_date: str) -> str:
    return f"{PREFIX}days/ingest_date={ingest_date}.json"


def later_day_key(ingest_date: str, n: int) -> str:
    return f"{PREFIX}days/ingest_date={ingest_date}/{n:02d}.json"


def day_runs(storage: Storage, ingest_date: str) -> list[str]:
    """The day's fan-out run ids, the first first (none: no run planned for the day)."""
    first = read_json(storage, day_key(ingest_date))
    if first is None:
        return []
    later = sorted(storage.list_keys(f"{PREFIX}days/ingest_date={ingest_date}/"))
    return [first["run_id"], *((read_json(storage, k) or {}).get("run_id") for k in later)]


def plan_key(run_id: str) -> str:
    return f"{PREFIX}run_id={run_id}/plan.json"


def attempt_key(run_id: str, symbol: str, receive_count: int, message_id: str) -> str:
    return f"{PREFIX}run_id={run_id}/attempts/{symbol}/{receive_count:02d}-{message_id[:12]}.json"


def attempts_prefix(run_id: str, symbol: str | None = None) -> str:
    return f"{PREFIX}run_id={run_id}/attempts/" + (f"{symbol}/" if symbol else "")


def settled_key(run_id: str, symbol: str) -> str:
    return f"{PREFIX}run_id={run_id}/settled/{symbol}.json"


def settled_prefix(run_id: str) -> str:
    return f"{PREFIX}run_id={run_id}/settled/"


def started_key(run_id: str) -> str:
    return f"{PREFIX}run_id={run_id}/started.json"


def claims_prefix(run_id: str) -> str:
    return f"{PREFIX}run_id={run_id}/claims/"


def claim_key(run_id: str, n: int) -> str:
    return f"{claims_prefix(run_id)}{n:02d}.json"


def fetching_prefix(run_id: str, symbol: str) -> str:
    return f"{PREFIX}run_id={run_id}/fetching/{symbol}/"


def malformed_key(message_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in message_id)[:128] or "unnamed"
    return f"{PREFIX}malformed/{safe}.json"


def malformed_for(storage: Storage, run_id: str) -> list[tuple[str, dict]]:
    """The malformed messages run `run_id` names: those naming it, and those naming no run that
    no other run has named yet. (key, record) pairs, in key order."""
    out = []
    for key in sorted(storage.list_keys(f"{PREFIX}malformed/")):
        try:
            doc = read_json(storage, key)
        except ValueError:
            continue
        if not doc:
            continue
        if doc.get("run_id") == run_id or (not doc.get("run_id") and doc.get("named_by") in (None, run_id)):
            out.append((key, doc))
    return out


@dataclass(frozen=True)
class Plan:
    run_id: str
    as_of: dt.date
    source: str
    symbols: tuple[str, ...]
    carried: tuple[str, ...]  # of which carried from earlier runs
    start: dt.date | None = None

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "source": self.source,
                "symbols": list(self.symbols), "carried": list(self.carried),
                "start": self.start.isoformat() if self.start else None}

    @classmethod
    def from_dict(cls, doc: dict) -> Plan:
        return cls(doc["run_id"], dt.date.fromisoformat(doc["as_of"]), doc["source"], tuple(doc["symbols"]),
                   tuple(doc.get("carried") or ()), dt.date.fromisoformat(doc["start"]) if doc.get("start") else None)


def read_json(storage: Storage, key: str) -> dict | None:
    try:
        return json.loads(storage.get_bytes(key))
    except NotFound:
        return None


def create(storage: Storage, key: str, doc: dict) -> bool:
    """Write `doc` at `key` unless something is there already; True when this call wrote it."""
    try:
        put_json(storage, key, doc, create_only=True)
        return True
    except AlreadyExists:
        return False


def load_plan(storage: Storage, run_id: str) -> Plan:
    doc = read_json(storage, plan_key(run_id))
    if doc is None:
        raise LookupError(f"fan-out run {run_id} has no plan at {storage.uri(plan_key(run_id))}")
    return Plan.from_dict(doc)


def settled(storage: Storage, run_id: str) -> dict[str, dict]:
    """symbol -> its settled record."""
    out = {}
    for key in storage.list_keys(settled_prefix(run_id)):
        doc = read_json(storage, key)
        if doc is not None:
            out[doc["symbol"]] = doc
    return out


def settled_symbols(storage: Storage, run_id: str) -> set[str]:
    """The symbols with an outcome, from the keys alone (no reads: the drain check's cheap half)."""
    prefix = settled_prefix(run_id)
    return {k[len(prefix):-len(".json")] for k in storage.list_keys(prefix) if k.endswith(".json")}


def attempts(storage: Storage, run_id: str) -> list[dict]:
    """Every receive's record, in key order (symbol, then receive)."""
    docs = (read_json(storage, k) for k in sorted(storage.list_keys(attempts_prefix(run_id))))
    return [d for d in docs if d is not None]


def attempts_of(storage: Storage, run_id: str, symbol: str) -> list[str]:
    """The keys of `symbol`'s receive records."""
    return sorted(storage.list_keys(attempts_prefix(run_id, symbol)))
