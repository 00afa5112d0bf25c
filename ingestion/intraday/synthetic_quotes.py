"""Synthetic intraday quotes (pure): a random walk per symbol through one session, anchored on
the symbol's last published close, reproducible from a seed.

The walk runs on the session's own clock (round r of a symbol is r intervals after the open),
so it works at any hour and gives the same quotes for the same seed, day, watchlist and
interval. Per round the log price moves by a normal step scaled so a whole session's moves
add up to about 1.5 % (a large cap's daily volatility); the open gaps from the previous close
by a smaller step; volume accumulates about `daily_volume` over the session.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ingestion.alphavantage.quote import QuoteFields

DAILY_VOLATILITY = 0.015
OPEN_GAP_VOLATILITY = 0.004
DEFAULT_DAILY_VOLUME = 5_000_000
_CENTS4 = Decimal("0.0001")


@dataclass
class _Walk:
    rng: random.Random
    previous_close: Decimal
    daily_volume: int
    price: float = 0.0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    volume: int = 0
    rounds: int = 0


class SyntheticQuotes:
    """Quotes of `day` (ISO) for symbols anchored on `anchors` (symbol -> previous close)."""

    def __init__(self, anchors: dict[str, Decimal], *, day: str, interval_s: float, session_s: float,
                 seed: int = 0, daily_volumes: dict[str, int] | None = None):
        if not anchors:
            raise ValueError("no symbol to walk")
        bad = [s for s, close in anchors.items() if close <= 0]
        if bad:
            raise ValueError(f"a walk needs a positive previous close: {', '.join(bad)}")
        self.day = day
        self.seed = seed
        # each round of a symbol is `interval_s` of session time: scale the step to it
        fraction = min(1.0, max(interval_s, 1e-3) / session_s)
        self.step = DAILY_VOLATILITY * math.sqrt(fraction)
        self.volume_per_round = fraction
        self._walks = {s: _Walk(random.Random(_seed(seed, s, day)), close, (daily_volumes or {}).get(s)
                                or DEFAULT_DAILY_VOLUME) for s, close in anchors.items()}

    def quote(self, symbol: str, round_index: int) -> QuoteFields:
        """Round `round_index` of the symbol (rounds come in order; a repeat gives the same quote)."""
        walk = self._walks[symbol]
        if round_index < walk.rounds - 1:
            raise ValueError(f"{symbol}: round {round_index} is behind the walk (at {walk.rounds - 1})")
        while walk.rounds <= round_index:
            self._advance(walk)
        return _fields(symbol, walk, self.day)

    def _advance(self, walk: _Walk) -> None:
        if walk.rounds == 0:
            walk.price = float(walk.previous_close) * math.exp(walk.rng.gauss(0.0, OPEN_GAP_VOLATILITY))
            walk.open = walk.high = walk.low = walk.price
        else:
            walk.price *= math.exp(walk.rng.gauss(0.0, self.step))
            walk.high, walk.low = max(walk.high, walk.price), min(walk.low, walk.price)
        walk.volume += max(0, int(walk.daily_volume * self.volume_per_round * walk.rng.lognormvariate(0.0, 0.5)))
        walk.rounds += 1


def _fields(symbol: str, walk: _Walk, day: str) -> QuoteFields:
    price, prev = _d(walk.price), walk.previous_close
    change = price - prev
    return QuoteFields(symbol=symbol, price=price, open=_d(walk.open), high=_d(walk.high), low=_d(walk.low),
                       volume=walk.volume, previous_close=prev, change=change,
                       change_percent=(change / prev * 100).quantize(_CENTS4, ROUND_HALF_UP),
                       latest_trading_day=day)


def _d(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS4, ROUND_HALF_UP)


def _seed(seed: int, symbol: str, day: str) -> int:
    # not hash(): Python salts str hashes per process, and a walk must repeat across runs
    return int.from_bytes(hashlib.sha256(f"{seed}:{symbol}:{day}".encode()).digest()[:8], "big")
