"""Quote records for the intraday tests: a Monday session (2026-11-30) at 10:00 New York."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from glue_jobs.lake.quote_record import QuoteRecord, encode
from glue_jobs.ports.stream import StreamRecord

SESSION = "2026-11-30"
OPEN_MS = int(dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)  # 10:00 EST
NOW = OPEN_MS // 1000 + 3600  # the tests' clock: an hour into the session


def quote(symbol: str = "IBM", price: str = "101", sequence: int = 1, *, previous_close: str = "100",
          minute: int | None = None, latest_trading_day: str = SESSION, **fields) -> QuoteRecord:
    p, pc = Decimal(price), Decimal(previous_close)
    values = dict(symbol=symbol, event_time_ms=OPEN_MS + 60_000 * (sequence if minute is None else minute),
                  source="synthetic", sequence=sequence, price=p, open=pc, high=max(p, pc), low=min(p, pc),
                  volume=1000 * sequence, previous_close=pc, change=p - pc,
                  change_percent=((p - pc) / pc * 100).quantize(Decimal("0.0001")),
                  latest_trading_day=latest_trading_day)
    values.update(fields)
    return QuoteRecord(**values)


def stream_record(q: QuoteRecord, sequence: str, shard: str = "shard-000") -> StreamRecord:
    return StreamRecord(shard, sequence, q.symbol, encode(q), q.event_time_ms + 5)
