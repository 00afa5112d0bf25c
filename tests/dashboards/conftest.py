from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from demo_lake import build_demo_engine  # noqa: E402


@pytest.fixture(scope="module")
def demo_engine():
    """A lake with prices, indicator views, runs, audit results and quarantined rows."""
    return build_demo_engine()
