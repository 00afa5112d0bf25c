from __future__ import annotations

import pytest

from tests.support.demo_lake import build_demo_engine


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    """A lake with prices, indicator views, runs, audit results and quarantined rows."""
    return build_demo_engine(tmp_path_factory.mktemp("demo") / "lake")
