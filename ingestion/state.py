"""The lake's ingestion state (state/ingestion.json): symbols carried to the next run and the
calls already made per quota day, so a second run on the same day does not overspend.

The merge is pure (merge_state); load_state / save_state are the only storage calls.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from glue_jobs.lake import layout
from glue_jobs.lake.errors import PipelineError
from glue_jobs.ports.storage import NotFound, Storage, put_json

STATE_VERSION = 1
KEEP_QUOTA_DAYS = 7


@dataclass(frozen=True)
class CarriedSymbol:
    symbol: str
    reason: str  # the kind that stopped it: daily_cap, server_error, rate_limit, ...
    since: str  # as-of date of the run that first carried it
    since_run_id: str
    runs: int = 1  # runs in a row that could not fetch it


@dataclass
class IngestState:
    carried: list[CarriedSymbol] = field(default_factory=list)
    quota: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> quota day -> calls
    updated_by_run_id: str | None = None

    def carried_symbols(self) -> list[str]:
        return [c.symbol for c in self.carried]

    def calls_on(self, source: str, day: str) -> int:
        return int(self.quota.get(source, {}).get(day, 0))

    def to_dict(self) -> dict:
        return {
            "version": STATE_VERSION,
            "carried": [asdict(c) for c in self.carried],
            "quota": self.quota,
            "updated_by_run_id": self.updated_by_run_id,
        }

    @classmethod
    def from_dict(cls, doc: Mapping) -> IngestState:
        carried = [CarriedSymbol(**{k: c[k] for k in CarriedSymbol.__dataclass_fields__ if k in c}) for c in doc.get("carried", [])]
        quota = {src: {day: int(n) for day, n in days.items()} for src, days in (doc.get("quota") or {}).items()}
        return cls(carried, quota, doc.get("updated_by_run_id"))


def normalise_symbols(symbols: Iterable[str]) -> list[str]:
    """Upper-case, stripped, first occurrence kept: 'aapl' and 'AAPL ' are one symbol."""
    seen: dict[str, None] = {}
    for symbol in symbols:
        clean = symbol.strip().upper()
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def plan_symbols(state: IngestState, symbols: Iterable[str]) -> list[str]:
    """Carried symbols first (they have waited longest), then the requested ones, no duplicates."""
    return normalise_symbols(list(state.carried_symbols()) + list(symbols))


def merge_state(
    previous: IngestState,
    *,
    run_id: str,
    as_of: dt.date,
    source: str,
    carried_now: Mapping[str, str],
    settled: Iterable[str],
    calls_by_day: Mapping[str, int],
) -> IngestState:
    """The state after a run. carried_now: symbol -> reason, in plan order; settled: symbols
    whose fate this run decided (fetched or failed for good); calls_by_day: calls this source
    has made per quota day (including those counted before the run)."""
    before = {c.symbol: c for c in previous.carried}
    carried = []
    for symbol, reason in carried_now.items():
        old = before.get(symbol)
        if old is None:
            carried.append(CarriedSymbol(symbol, reason, as_of.isoformat(), run_id))
        else:
            carried.append(CarriedSymbol(symbol, reason, old.since, old.since_run_id, old.runs + 1))
    touched = set(carried_now) | set(settled)
    carried += [c for c in previous.carried if c.symbol not in touched]
    quota = {src: dict(days) for src, days in previous.quota.items()}
    days = quota.setdefault(source, {})
    for day, calls in calls_by_day.items():
        days[day] = max(days.get(day, 0), int(calls))
    for src in quota:
        kept = sorted(quota[src])[-KEEP_QUOTA_DAYS:]
        quota[src] = {day: quota[src][day] for day in kept}
    return IngestState(carried, quota, run_id)


def load_state(storage: Storage) -> IngestState:
    """The lake's state, or an empty one on the first run."""
    try:
        raw = storage.get_bytes(layout.STATE_KEY)
    except NotFound:
        return IngestState()
    try:
        return IngestState.from_dict(json.loads(raw))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PipelineError(
            f"ingest state {storage.uri(layout.STATE_KEY)} is unreadable ({exc}): `tickerlake doctor --repair` "
            "sets it aside and rebuilds it from the ingest manifests"
        ) from None


def save_state(storage: Storage, state: IngestState) -> None:
    put_json(storage, layout.STATE_KEY, state.to_dict())
