"""Recorded Alpha Vantage bodies (tests/fixtures/alphavantage) and lake helpers for tests."""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alphavantage"


def recorded(name: str) -> bytes:
    """The bytes of one recorded body."""
    return (FIXTURES / name).read_bytes()


def lake_files(storage) -> dict[str, bytes]:
    """Every object of a lake, key -> bytes."""
    return {key: storage.get_bytes(key) for key in storage.list_keys("")}
