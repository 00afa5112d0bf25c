"""Numbered create-only claims: who does a piece of work that must be done by one at a time, and
must be done again when its doer could not finish.

    <prefix>01.json, <prefix>02.json, ...     create-only; the newest is the current claim

The next claim is taken only when there is none, or when the newest was given back (its holder
failed and said so) or is no longer live by the caller's rule (its holder died: a lease ran out,
a process is gone). Two takers of the same next number race on a create-only write: one wins.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from glue_jobs.ports.storage import Storage, put_json
from ingestion.fanout.records import create, read_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    number: int | None  # this call's claim, or None when another holds the work
    holder: dict | None = None  # the live claim that stopped this call


def key(prefix: str, n: int) -> str:
    return f"{prefix}{n:02d}.json"


def newest(storage: Storage, prefix: str, *, read: bool = True) -> tuple[int, dict | None]:
    """The newest claim's number (0: none) and document (None when it cannot be read, or when
    `read` is False: the number alone costs one listing)."""
    numbers = [int(k[len(prefix):-len(".json")]) for k in storage.list_keys(prefix)
               if k.endswith(".json") and k[len(prefix):-len(".json")].isdigit()]
    if not numbers:
        return 0, None
    n = max(numbers)
    if not read:
        return n, None
    try:
        return n, read_json(storage, key(prefix, n))
    except ValueError:  # a torn claim: its writer died
        return n, None


def take(storage: Storage, prefix: str, doc: dict, *, live: Callable[[dict], bool]) -> Taken:
    """Claim the work under `prefix` with `doc`, unless the newest claim is live."""
    n, current = newest(storage, prefix)
    if n and current is not None and not current.get("given_back") and live(current):
        return Taken(None, current)
    if n:
        why = f"was given back ({current.get('given_back')})" if current and current.get("given_back") else \
            "is stale (its holder is gone)"
        log.warning("claim %s %s: taking the work over", key(prefix, n), why)
    if create(storage, key(prefix, n + 1), doc):
        return Taken(n + 1)
    return Taken(None, read_json_quietly(storage, key(prefix, n + 1)))


def give_back(storage: Storage, prefix: str, n: int, why: str) -> None:
    """Mark claim `n` given back, so the next taker need not wait for it to go stale."""
    try:
        doc = read_json(storage, key(prefix, n)) or {}
        put_json(storage, key(prefix, n), {**doc, "given_back": why[:500]})
    except Exception as exc:  # it then goes stale by the caller's rule instead
        log.warning("could not give back claim %s (%s)", key(prefix, n), exc)


def read_json_quietly(storage: Storage, claim: str) -> dict | None:
    try:
        return read_json(storage, claim)
    except ValueError:
        return None
