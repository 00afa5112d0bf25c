"""ShardStatus as the transport's branch adds it to glue_jobs/ports/stream.py (same fields), for
the test-support log until that port is on main; the merge imports it from the port instead."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShardStatus:
    shard_id: str
    last_sequence: str | None
    checkpoint: str | None
    lag: int | None
