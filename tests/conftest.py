"""Fixtures every test folder may use, kept in tests/support/ and registered here once:
a RunContext on a fresh local lake (contexts), moto-backed AWS (aws) and Athena's rules around
moto's Athena (athena_contract)."""
from __future__ import annotations

pytest_plugins = ["tests.support.contexts", "tests.support.aws", "tests.support.athena_contract",
                  "tests.support.dynamodb_contract"]
