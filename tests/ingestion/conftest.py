"""Shared fixtures for the ingestion tests: recorded bodies, a hand-moved clock, a lake in a
temporary directory and the fake Alpha Vantage server."""
from __future__ import annotations

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.clock import FakeClock


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
