"""The synthetic series' numbers (pure): each symbol's walk, priced only where a window asks.

A symbol's log-price level after s sessions is a Gaussian random walk (one step a session,
sd sigma, drift DRIFT) built from the coarse to the fine: steps of 256 sessions summed from
the epoch, then each 256-session block filled in by a Brownian bridge of 16 steps of 16
sessions, each of those by a bridge of 16 daily steps. A bridge conditioned on its ends has
exactly the walk's distribution, so the series is a plain random walk, but the level at any
session needs about 30 + 2 x 16 + 16 of its draws, not every draw since the epoch: a daily
window of 100 sessions costs a tenth of a millisecond, not the 0.4 ms of drawing 7,000
sessions. Every draw is a counter-based hash of (seed, symbol, what it is for, its index), so
a bar is the same whichever window asks for it.
"""
from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np

SCALE = 10_000  # prices are integers of 1/10000 (the API's 4 decimals)
DRIFT = 0.0002  # log-price drift a session
BLOCK = 16  # steps a bridge fills in; the coarse step is BLOCK**2 sessions
_COARSE = BLOCK * BLOCK

# what a draw is for: each has its own counter space
_COARSE_STEP, _MEDIUM_STEP, _DAY_STEP, _BAR, _PARAMS = range(5)
_BAR_DRAWS = 4  # open, high, low, volume
_PURPOSE_SHIFT = 48  # counters of one purpose stay below 2**48

_MASK = 2**64 - 1
_M1, _M2, _GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64, in place: a bijection whose outputs pass as independent."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(_M1)
    x ^= x >> np.uint64(27)
    x *= np.uint64(_M2)
    x ^= x >> np.uint64(31)
    return x


def _mix_int(x: int) -> int:
    x = ((x ^ (x >> 30)) * _M1) & _MASK
    x = ((x ^ (x >> 27)) * _M2) & _MASK
    return x ^ (x >> 31)


def _unit(bits: int) -> float:
    return ((bits >> 11) + 0.5) * 2.0**-53


@lru_cache(maxsize=8192)
def symbol_key(symbol: str, seed: int) -> int:
    """The 64-bit key of a (symbol, seed) series."""
    digest = hashlib.sha256(f"{seed}:{symbol.upper()}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _draw_bits(key: int, counter: int) -> int:
    return _mix_int((counter * _GOLDEN + key) & _MASK)


def normals(key: int, ranges: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """Standard normals for each (purpose, first counter, end counter): the draw of a counter
    depends on the key, the purpose and the counter alone. Box-Muller on pairs of counters
    (2p, 2p + 1), both outputs used; one hashing pass over every range."""
    pairs = [np.arange(a // 2, (b + 1) // 2, dtype=np.uint64) + np.uint64(purpose << _PURPOSE_SHIFT)
             for purpose, a, b in ranges]
    half = sum(len(block) for block in pairs)
    bits = np.empty(2 * half, dtype=np.uint64)
    np.concatenate(pairs, out=bits[:half])
    bits[:half] *= np.uint64(2)
    np.add(bits[:half], np.uint64(1), out=bits[half:])
    with np.errstate(over="ignore"):
        bits *= np.uint64(_GOLDEN)
        bits += np.uint64(key)
        _mix(bits)
    bits >>= np.uint64(11)
    u = bits.astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    radius = np.log(u[:half])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = u[half:]
    angle *= 2.0 * np.pi
    z = np.empty((half, 2))
    np.cos(angle, out=z[:, 0])
    np.sin(angle, out=z[:, 1])
    z *= radius[:, None]
    z = z.ravel()
    out, at = [], 0
    for (_, a, b), block in zip(ranges, pairs):
        skip = a - 2 * (a // 2)
        out.append(z[at + skip:at + skip + b - a])
        at += 2 * len(block)
    return out


def parameters(key: int) -> tuple[float, float, float]:
    """(start price, sigma a session, typical volume) of a series."""
    u = [_unit(_draw_bits(key, (_PARAMS << _PURPOSE_SHIFT) + i)) for i in range(3)]
    start = math.exp(math.log(10.0) + u[0] * (math.log(400.0) - math.log(10.0)))
    sigma = 0.01 + u[1] * 0.02
    volume = math.exp(math.log(2e5) + u[2] * (math.log(2e7) - math.log(2e5)))
    return start, sigma, volume


def _bridge(z: np.ndarray, sd: float, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Levels at the BLOCK + 1 points of each block (rows of z: its BLOCK steps' draws) from
    `left` to `right`: steps of sd `sd`, conditioned on the block's ends."""
    w = np.zeros((len(left), BLOCK + 1))
    np.cumsum(sd * z.reshape(-1, BLOCK), axis=1, out=w[:, 1:])
    t = np.arange(BLOCK + 1) / BLOCK
    return left[:, None] + w - t * w[:, -1:] + t * (right - left)[:, None]


def _level_draws(first: int, end: int) -> list[tuple[int, int, int]]:
    """The draws the levels after `first` .. `end` - 1 steps need: every coarse step before,
    the bridges of the coarse and the 16-session blocks the window falls in."""
    last = end - 1
    return [
        (_COARSE_STEP, 0, last // _COARSE + 1),
        (_MEDIUM_STEP, first // _COARSE * BLOCK, (last // _COARSE + 1) * BLOCK),
        (_DAY_STEP, first // BLOCK * BLOCK, (last // BLOCK + 1) * BLOCK),
    ]


def levels(key: int, sigma: float, first: int, end: int) -> np.ndarray:
    """The walk's levels after `first` .. `end` - 1 steps (level 0 is 0: the start price)."""
    return _levels(first, end, sigma, *normals(key, _level_draws(first, end)))


def _levels(first: int, end: int, sigma: float, coarse_z, medium_z, fine_z) -> np.ndarray:
    s = np.arange(first, end)
    coarse = np.zeros(len(coarse_z) + 1)
    np.cumsum(BLOCK * sigma * coarse_z + _COARSE * DRIFT, out=coarse[1:])
    k = np.arange(first // _COARSE, (end - 1) // _COARSE + 1)
    medium = _bridge(medium_z, 4.0 * sigma, coarse[k], coarse[k + 1])
    g = np.arange(first // BLOCK, (end - 1) // BLOCK + 1)  # 16-session blocks, numbered from the epoch
    row, m = g // BLOCK - k[0], g % BLOCK
    fine = _bridge(fine_z, sigma, medium[row, m], medium[row, m + 1])
    return fine[s // BLOCK - g[0], s % BLOCK]


def bars(symbol: str, seed: int, count: int, first: int = 0) -> tuple[np.ndarray, ...]:
    """Bars `first` .. `count` - 1 (sessions since the epoch) as integer arrays: open, high,
    low, close in 1/SCALE, volume. The walk is squashed (tanh) so prices stay within a factor
    of ~12 of the start price and never reach zero."""
    key = symbol_key(symbol, seed)
    start, sigma, volume_base = parameters(key)
    first = min(first, count)
    # levels first .. count: the close before the window, then the window's (one hashing pass)
    *level_z, z = normals(key, _level_draws(first, count + 1) + [(_BAR, first * _BAR_DRAWS, count * _BAR_DRAWS)])
    closes = start * np.exp(2.5 * np.tanh(_levels(first, count + 1, sigma, *level_z) / 2.5))
    previous, close = closes[:-1], closes[1:]
    z = z.reshape(-1, _BAR_DRAWS)
    open_ = previous * np.exp(0.3 * sigma * z[:, 0])
    high = np.maximum(open_, close) * np.exp(0.5 * sigma * np.abs(z[:, 1]))
    low = np.minimum(open_, close) * np.exp(-0.5 * sigma * np.abs(z[:, 2]))
    volume = np.rint(volume_base * np.exp(0.35 * z[:, 3])).astype(np.int64)
    # Rounding is monotone, so rounded bars stay consistent.
    scaled = [np.rint(a * SCALE).astype(np.int64) for a in (open_, high, low, close)]
    return (*scaled, volume)


# --- many symbols at once -------------------------------------------------------------------
# A day's ingest asks for the same window of 5,000 symbols: the same arithmetic as above on
# arrays of (symbols, sessions), every element computed by the same operations in the same
# order, so each symbol's bars are bit for bit those of `bars` (a test compares them), for a
# fifth of the CPU (numpy's per-call cost paid once a batch, not once a symbol).


def _normals_many(keys: np.ndarray, ranges: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """`normals` for every key at once: rows are keys."""
    pairs = [np.arange(a // 2, (b + 1) // 2, dtype=np.uint64) + np.uint64(purpose << _PURPOSE_SHIFT)
             for purpose, a, b in ranges]
    counters = np.concatenate(pairs) * np.uint64(2)
    half = len(counters)
    bits = np.empty((len(keys), 2 * half), dtype=np.uint64)
    bits[:, :half] = counters
    bits[:, half:] = counters + np.uint64(1)
    with np.errstate(over="ignore"):
        bits *= np.uint64(_GOLDEN)
        bits += keys[:, None]
        _mix(bits)
    bits >>= np.uint64(11)
    u = bits.astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    radius = np.log(u[:, :half])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = u[:, half:]
    angle *= 2.0 * np.pi
    z = np.empty((len(keys), half, 2))
    np.cos(angle, out=z[:, :, 0])
    np.sin(angle, out=z[:, :, 1])
    z *= radius[:, :, None]
    z = z.reshape(len(keys), 2 * half)
    out, at = [], 0
    for (_, a, b), block in zip(ranges, pairs):
        skip = a - 2 * (a // 2)
        out.append(z[:, at + skip:at + skip + b - a])
        at += 2 * len(block)
    return out


def _bridge_many(z: np.ndarray, sd: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """`_bridge` per row of keys: z (keys, blocks * BLOCK), sd (keys,), left/right (keys, blocks)."""
    w = np.zeros(left.shape + (BLOCK + 1,))
    np.cumsum(sd[:, None, None] * z.reshape(len(z), -1, BLOCK), axis=2, out=w[:, :, 1:])
    t = np.arange(BLOCK + 1) / BLOCK
    return left[:, :, None] + w - t * w[:, :, -1:] + t * (right - left)[:, :, None]


def _levels_many(first: int, end: int, sigma: np.ndarray, coarse_z, medium_z, fine_z) -> np.ndarray:
    s = np.arange(first, end)
    coarse = np.zeros((len(sigma), coarse_z.shape[1] + 1))
    np.cumsum((BLOCK * sigma)[:, None] * coarse_z + _COARSE * DRIFT, axis=1, out=coarse[:, 1:])
    k = np.arange(first // _COARSE, (end - 1) // _COARSE + 1)
    medium = _bridge_many(medium_z, 4.0 * sigma, coarse[:, k], coarse[:, k + 1])
    g = np.arange(first // BLOCK, (end - 1) // BLOCK + 1)
    row, m = g // BLOCK - k[0], g % BLOCK
    fine = _bridge_many(fine_z, sigma, medium[:, row, m], medium[:, row, m + 1])
    return fine[:, s // BLOCK - g[0], s % BLOCK]


def bars_many(symbols: list[str], seed: int, count: int, first: int = 0) -> tuple[np.ndarray, ...]:
    """`bars` of every symbol over the same sessions: arrays of (symbols, sessions)."""
    keys = [symbol_key(symbol, seed) for symbol in symbols]
    start, sigma, volume_base = (np.array(column) for column in zip(*(parameters(key) for key in keys)))
    first = min(first, count)
    *level_z, z = _normals_many(np.array(keys, dtype=np.uint64),
                                _level_draws(first, count + 1) + [(_BAR, first * _BAR_DRAWS, count * _BAR_DRAWS)])
    closes = start[:, None] * np.exp(2.5 * np.tanh(_levels_many(first, count + 1, sigma, *level_z) / 2.5))
    previous, close = closes[:, :-1], closes[:, 1:]
    z = z.reshape(len(keys), -1, _BAR_DRAWS)
    open_ = previous * np.exp((0.3 * sigma)[:, None] * z[:, :, 0])
    high = np.maximum(open_, close) * np.exp((0.5 * sigma)[:, None] * np.abs(z[:, :, 1]))
    low = np.minimum(open_, close) * np.exp((-0.5 * sigma)[:, None] * np.abs(z[:, :, 2]))
    volume = np.rint(volume_base[:, None] * np.exp(0.35 * z[:, :, 3])).astype(np.int64)
    scaled = [np.rint(a * SCALE).astype(np.int64) for a in (open_, high, low, close)]
    return (*scaled, volume)
