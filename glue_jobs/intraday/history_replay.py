"""`tickerlake stream replay --from TIME` on AWS: the quotes come back from the history Firehose
delivered (Parquet under `stream/quotes/dt=YYYY-MM-DD/`, the columns of `stocks.intraday_quotes`),
not from the stream, whose 24 hours may have passed, and go through the same processor into
the quotes table. Every effect of the processor is idempotent (create-only recent quotes, a
current quote that only moves forward, alerts once per rule, symbol and session through their
sent markers), so a replay serves again what the table lost and sends no alert twice.

Firehose delivers at least once, so a quote may be in the history twice: it is replayed once,
by its identity (source, symbol, producer sequence). The history's prices are doubles; each is
given back as the shortest decimal that reads as that double, which is the quote's own text
for prices of up to 15 significant digits (the screen allows 8 decimal places below 10^7).
Firehose also keeps quotes the consumer rejected: the screen rejects them again, with the reason.

The records have no transport position; each is named `history` / `<source>:<symbol>:<sequence>`
(what a rejected quote's object is named after) and ordered by event time, which keeps every
symbol's quotes in their order."""
from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote as url_quote

from glue_jobs.intraday.consume import ConsumeResult
from glue_jobs.intraday.history import COLUMNS, PREFIX
from glue_jobs.intraday.processor import Processor
from glue_jobs.lake.quote_record import PRICE_FIELDS
from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import StreamRecord

SHARD = "history"
BATCH = 500
ATTEMPTS = 3


def history_keys(keys: Iterable[str], since_ms: int) -> list[str]:
    """The history's objects that can hold quotes from `since_ms` on: every object of a `dt=`
    day from the day before (a quote's arrival, which names the day, follows its event; a day's
    margin for clocks) whatever Firehose named it."""
    first = (dt.datetime.fromtimestamp(since_ms / 1000, tz=dt.timezone.utc).date() - dt.timedelta(days=1)).isoformat()
    out = []
    for key in keys:
        rest = key[len(PREFIX):] if key.startswith(PREFIX) else ""
        if not rest.startswith("dt=") or "/" not in rest or rest.endswith("/"):
            continue
        if rest[3:].split("/", 1)[0] >= first:
            out.append(key)
    return sorted(out)


def parquet_rows(data: bytes) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).to_pylist()


def replay_records(rows: Iterable[dict[str, Any]], since_ms: int) -> list[StreamRecord]:
    """The history's rows from `since_ms` on (by event time) as stream records, each quote once,
    in event-time order (pure)."""
    seen: set[tuple[Any, Any, Any]] = set()
    kept: list[tuple[int, str, int, dict[str, Any]]] = []
    for row in rows:
        event = row.get("event_time_ms")
        if not isinstance(event, int) or event < since_ms:
            continue
        identity = (row.get("source"), row.get("symbol"), row.get("sequence"))
        if identity in seen:
            continue  # Firehose delivered it twice
        seen.add(identity)
        kept.append((event, str(row.get("symbol")), row.get("sequence") if isinstance(row.get("sequence"), int)
                     else -1, row))
    kept.sort(key=lambda k: k[:3])
    return [StreamRecord(SHARD, _name(row), str(row.get("symbol") or ""), _record_bytes(row), event)
            for event, _, _, row in kept]


def _name(row: dict[str, Any]) -> str:
    return url_quote(f"{row.get('source')}:{row.get('symbol')}:{row.get('sequence')}", safe=":.-_")


def _record_bytes(row: dict[str, Any]) -> bytes:
    """The quote record as the producer put it: prices as decimal text, a null left out (so the
    screen names the missing field)."""
    doc: dict[str, Any] = {}
    for column in COLUMNS:
        value = row.get(column.name)
        if value is None:
            continue
        doc[column.name] = _decimal_text(value) if column.name in PRICE_FIELDS else value
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _decimal_text(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": the decoder rejects them by name
    text = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def replay_from_history(storage: Storage, processor: Processor, since_ms: int, *, batch: int = BATCH,
                        say: Callable[[str], None] = lambda line: None) -> ConsumeResult:
    """Process the history's quotes from `since_ms` on. A batch that keeps failing (ATTEMPTS
    times at the same quote) stops the replay there, named in the result's errors: nothing is
    passed over, and a replay after the fix finds done what was done."""
    keys = history_keys(storage.list_keys(PREFIX), since_ms)
    rows: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for n, key in enumerate(keys, 1):
        try:
            rows += parquet_rows(storage.get_bytes(key))
        except Exception as exc:  # one unreadable object must not hide the others
            unreadable.append(f"{key} is not a readable Parquet history file ({type(exc).__name__}: {exc}); "
                              "its quotes were not replayed")
            say(f"stream replay: {unreadable[-1]}")
            continue
        if n % 50 == 0:
            say(f"stream replay: read {n} of {len(keys)} history files")
    records = replay_records(rows, since_ms)
    say(f"stream replay: {len(records)} quotes from {len(keys)} history files ({len(rows)} rows)")
    total = ConsumeResult(errors=unreadable)
    position, attempts = 0, 0
    while position < len(records):
        result = processor.handle(records[position:position + batch])
        total.add(result, result.processed)
        position += result.processed
        if result.failed is None:
            attempts = 0
            continue
        attempts = attempts + 1 if not result.processed else 1
        if attempts >= ATTEMPTS:
            total.errors.append(f"stopped at quote {result.failed.sequence} after {attempts} attempts: "
                                f"{result.error}; {len(records) - position} quotes not replayed")
            break
    return total
