from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.runtime import local_context

AS_OF = dt.date(2024, 3, 8)  # a Friday session
WAP_RUN = "20240308T230000Z-wap001"


@pytest.fixture
def make_ctx(tmp_path):
    """A RunContext on a fresh local lake in tmp_path (one lake per test, several runs)."""

    def make(run_id: str = WAP_RUN, as_of: dt.date = AS_OF, settings: dict | None = None):
        return local_context(tmp_path / "lake", run_id=run_id, as_of=as_of, settings=settings)

    return make


@pytest.fixture
def ctx(make_ctx):
    return make_ctx()
