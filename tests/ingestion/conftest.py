"""Shared fixtures for the ingestion tests: recorded bodies, a hand-moved clock, a lake in a
temporary directory and the fake Alpha Vantage server."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.fakes` must import however pytest was started
    sys.path.insert(0, str(ROOT))

from glue_jobs.adapters.storage import LocalStorage  # noqa: E402
from ingestion.alphavantage.api_key import clear_cache  # noqa: E402
from tests.fakes.alphavantage_server import FakeAlphaVantage  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lake(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "lake")


@pytest.fixture
def fake_av(clock):
    """Factory: fake_av(**settings) starts a FakeAlphaVantage on the test's clock."""
    servers = []

    def start(**settings) -> FakeAlphaVantage:
        settings.setdefault("clock", clock.now)
        server = FakeAlphaVantage(**settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    clear_cache()
    yield
    clear_cache()
