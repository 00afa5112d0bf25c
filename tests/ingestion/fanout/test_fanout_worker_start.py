"""A fan-out worker that cannot start (its queue or bucket will not open) stops the run with its
error instead of dying alone in its thread while the run goes on, or ends, without it."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from ingestion.fanout import records
from ingestion.fanout.in_process import run_workers


def test_a_worker_that_cannot_open_its_bucket_stops_the_run_with_that_error(tmp_path):
    plan = records.Plan(run_id="20261120T220000Z-fan", as_of=dt.date(2026, 11, 20), source="alphavantage",
                        symbols=("IBM",), carried=())

    def open_worker():
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        run_workers(LocalStorage(tmp_path / "lake"), plan, open_worker=open_worker, workers=2,
                    finish=lambda worker: None, sleep=lambda seconds: None)
