"""Small raw zones for the WAP tests: Alpha Vantage CSV bodies and ingest manifests written
straight into a LocalStorage lake, as the ingest stage lands them."""
from __future__ import annotations

import datetime as dt
import json
import random

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import layout, trading_calendar

HEADER = "timestamp,open,high,low,close,volume"


def csv_body(rows: list[tuple], *, header: str = HEADER, crlf: bool = True) -> bytes:
    """A CSV body, rows as given (Alpha Vantage sends newest first); values are str()-ed."""
    eol = "\r\n" if crlf else "\n"
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    return (eol.join(lines) + eol).encode()


def bars(symbol: str, sessions: list[dt.date], seed: int = 0) -> list[tuple]:
    """Valid daily bars (newest first) on the given sessions: a seeded random walk."""
    rng = random.Random(f"{symbol}-{seed}")
    price = 50 + rng.random() * 100
    out = []
    for day in sessions:
        open_ = round(price * (1 + rng.uniform(-0.01, 0.01)), 4)
        close = round(open_ * (1 + rng.uniform(-0.03, 0.03)), 4)
        high = round(max(open_, close) * (1 + rng.uniform(0, 0.01)), 4)
        low = round(min(open_, close) * (1 - rng.uniform(0, 0.01)), 4)
        volume = rng.randint(100_000, 5_000_000)
        out.append((day.isoformat(), open_, high, low, close, volume))
        price = close
    return out[::-1]


def land(storage: LocalStorage, *, run_id: str, ingest_date: str, bodies: dict[str, bytes],
         fetched_at: dt.datetime | None = None, forming: dict[str, str] | None = None,
         rows: dict[str, int] | None = None) -> str:
    """Land one ingest run: a body per symbol and the run's manifest; returns the manifest key."""
    fetched_at = fetched_at or dt.datetime.fromisoformat(f"{ingest_date}T21:30:00+00:00")
    symbols = {}
    for symbol, body in bodies.items():
        key = layout.raw_key(ingest_date, symbol, run_id)
        storage.put_bytes(key, body)
        data_rows = len([line for line in body.splitlines()[1:] if line.strip()])
        symbols[symbol] = {
            "symbol": symbol,
            "status": "fetched",
            "raw_key": key,
            "csv_key": None,
            "rows": (rows or {}).get(symbol, data_rows),
            "fetched_at": fetched_at.isoformat(),
            "forming_date": (forming or {}).get(symbol),
        }
    manifest = {"version": 1, "run_id": run_id, "ingest_date": ingest_date, "status": "ok", "symbols": symbols}
    key = layout.manifest_key(ingest_date, run_id)
    storage.put_bytes(key, json.dumps(manifest).encode())
    return key


def land_synthetic(storage: LocalStorage, *, run_id: str, as_of: dt.date, symbols: list[str], days: int,
                   seed: int = 0) -> str:
    """`days` sessions of valid bars up to `as_of` for each symbol, in one ingest run."""
    sessions = trading_calendar.last_sessions(as_of, days)
    return land(storage, run_id=run_id, ingest_date=as_of.isoformat(),
                bodies={s: csv_body(bars(s, sessions, seed)) for s in symbols})
