"""Fixtures every test folder may use, kept in tests/support/ and registered here once:
a RunContext on a fresh local lake (contexts), moto-backed AWS (aws) and Athena's rules around
moto's Athena (athena_contract)."""
from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.contexts", "tests.support.aws", "tests.support.athena_contract",
                  "tests.support.dynamodb_contract"]


@pytest.fixture(autouse=True, scope="session")
def _translation_cache_of_this_run(tmp_path_factory):
    """The local engine's translation cache in this run's temporary folder (processes the tests
    start inherit it), not the user's ~/.cache: every run starts from an empty cache."""
    import os

    os.environ["TICKERLAKE_SQL_CACHE"] = str(tmp_path_factory.mktemp("sql-cache"))
    yield
