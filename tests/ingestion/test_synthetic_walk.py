"""The synthetic walk is a plain Gaussian random walk, however it is computed: the bench's
restatements, jumps and price ranges rely on its steps having the same spread everywhere,
including where the walk's blocks meet (a bridge left unconditioned jumps there)."""
from __future__ import annotations

import numpy as np
import pytest

from ingestion.synthetic import walk

SYMBOLS = [f"W{i:03d}" for i in range(200)]
SESSIONS = 4 * 256 + 40


@pytest.fixture(scope="module")
def steps() -> np.ndarray:
    """Each symbol's daily steps divided by its sigma, drift removed: (symbols, sessions)."""
    rows = []
    for symbol in SYMBOLS:
        key = walk.symbol_key(symbol, 0)
        _, sigma, _ = walk.parameters(key)
        rows.append((np.diff(walk.levels(key, sigma, 0, SESSIONS + 1)) - walk.DRIFT) / sigma)
    return np.array(rows)


def test_the_level_before_the_first_session_is_the_start_price():
    key = walk.symbol_key("X", 0)
    assert walk.levels(key, 0.02, 0, 1).tolist() == [0.0]


@pytest.mark.parametrize("where, position", [
    ("inside a 16-session block", lambda s: s % 16 == 7),
    ("into a 16-session block's last level", lambda s: s % 16 == 15),
    ("out of a 16-session block's first level", lambda s: s % 16 == 0),
    ("across a 256-session boundary", lambda s: s % 256 == 255),
    ("out of a 256-session boundary", lambda s: s % 256 == 0),
])
def test_a_step_has_the_walks_spread_wherever_it_falls(steps, where, position):
    chosen = steps[:, position(np.arange(SESSIONS))]
    # 200 symbols: at least 800 steps each way, so the spread is known within about 5 %
    assert abs(chosen.std() - 1.0) < 0.08, where
    assert abs(chosen.mean()) < 0.12, where


def test_steps_are_independent(steps):
    assert abs(np.corrcoef(steps[:, :-1].ravel(), steps[:, 1:].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(steps[:, :-16].ravel(), steps[:, 16:].ravel())[0, 1]) < 0.02


def test_the_drift_is_the_walks(steps):
    # drift removed, the mean step of 200 symbols' 1,064 sessions is none, within 0.005 sigma
    # (the drift itself is 0.007 to 0.02 sigma)
    assert abs(steps.mean()) < 0.005


def test_draws_do_not_depend_on_the_range_that_asks_for_them():
    key = walk.symbol_key("X", 3)
    whole, = walk.normals(key, [(2, 0, 64)])
    for a, b in [(1, 2), (3, 40), (17, 64)]:
        part, = walk.normals(key, [(2, a, b)])
        assert part.tolist() == whole[a:b].tolist()
    other, = walk.normals(key, [(3, 0, 64)])  # another purpose draws other numbers
    assert not np.allclose(other, whole)
