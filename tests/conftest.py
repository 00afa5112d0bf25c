"""Fixtures every test folder may use, kept in tests/support/ and registered here once:
a RunContext on a fresh local lake (contexts) and moto-backed AWS (aws)."""
from __future__ import annotations

pytest_plugins = ["tests.support.contexts", "tests.support.aws"]
