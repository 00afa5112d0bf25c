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


@pytest.fixture(autouse=True, scope="session")
def _one_great_expectations_worker_for_the_session():
    """The suite runs hundreds of pipelines in each of its processes: they all validate through
    one Great Expectations worker, as a process running many pipelines keeps it, instead of
    importing GE (3 s of CPU) anew for each run. A command's own run still lets its worker go
    (tests/glue_jobs/audit/test_ge_worker.py, on workers of its own)."""
    from glue_jobs.audit import ge_worker

    worker = ge_worker.shared()  # None where the mutation runs validate in place
    if worker is not None:
        worker.keep_between_runs = True
    yield
