"""One queue message = one symbol of one fan-out run. Pure: encode and decode the body."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass


class BadMessage(ValueError):
    """A body that is not a symbol task: it goes to the dead-letter queue with this reason."""


@dataclass(frozen=True)
class SymbolTask:
    run_id: str  # the fan-out run (and the ingest run whose raw keys it lands under)
    as_of: dt.date
    symbol: str
    source: str
    start: dt.date | None = None  # a backfill's first date (outputsize=full)


def encode(task: SymbolTask) -> str:
    return json.dumps({"kind": "fanout_symbol", "run_id": task.run_id, "as_of": task.as_of.isoformat(),
                       "symbol": task.symbol, "source": task.source,
                       "start": task.start.isoformat() if task.start else None}, sort_keys=True)


def decode(body: str) -> SymbolTask:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise BadMessage(f"not JSON ({exc}): {body[:80]!r}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "fanout_symbol":
        raise BadMessage(f"not a fan-out symbol task (kind {doc.get('kind') if isinstance(doc, dict) else None!r})")
    missing = [k for k in ("run_id", "as_of", "symbol", "source") if not doc.get(k)]
    if missing:
        raise BadMessage(f"fan-out task without {', '.join(missing)}")
    symbol = str(doc["symbol"]).strip().upper()
    if not symbol or "/" in symbol or "=" in symbol:
        raise BadMessage(f"fan-out task names no usable symbol: {doc['symbol']!r}")
    try:
        as_of = dt.date.fromisoformat(doc["as_of"])
        start = dt.date.fromisoformat(doc["start"]) if doc.get("start") else None
    except (TypeError, ValueError):
        raise BadMessage(f"fan-out task for {symbol}: dates must be YYYY-MM-DD "
                         f"(as_of {doc.get('as_of')!r}, start {doc.get('start')!r})") from None
    return SymbolTask(str(doc["run_id"]), as_of, symbol, str(doc["source"]), start)
