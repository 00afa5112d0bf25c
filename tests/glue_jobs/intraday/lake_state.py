"""What a consumer run leaves in a local lake, as plain values the tests compare."""
from __future__ import annotations

import json
from pathlib import Path

from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable
from glue_jobs.intraday.history import PREFIX
from tests.glue_jobs.intraday.quotes import NOW


def history_rows(lake: Path) -> list[tuple]:
    import pyarrow.parquet as pq

    rows = []
    for path in sorted((lake / PREFIX).rglob("*.parquet")):
        rows += [(r["symbol"], r["sequence"], r["price"]) for r in pq.read_table(path).to_pylist()]
    return sorted(rows)


def alert_keys(lake: Path) -> list[str]:
    path = lake / "alerts" / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["dedupe_key"] for line in path.read_text().splitlines() if line.strip()]


def served(lake: Path, symbols: list[str]) -> dict:
    table = SqliteQuotesTable(lake / "serving" / "quotes.sqlite")
    out = {}
    for s in symbols:
        current = table.get_current(s, now=NOW)
        out[s] = ([(q.sequence, q.price, q.moving_average, q.anomaly) for q in table.recent(s, now=NOW)],
                  None if current is None else (current.quote.sequence, current.window))
    table.close()
    return out


def rejected(lake: Path) -> list[str]:
    return sorted(p.name for p in (lake / "stream" / "rejected").rglob("*.json"))
