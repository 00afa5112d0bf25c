"""`tickerlake run` starts the audit's Great Expectations worker (seconds of CPU to import GE)
before the run opens its lake, so that the import overlaps the whole start and ingest; an s3
lake's audit imports GE in place, so no worker is started for one."""
from __future__ import annotations

import pytest

from glue_jobs.audit import ge_worker
from glue_jobs.lake.errors import ConfigError
from workflows.cli import commands
from workflows.cli.main import main


@pytest.fixture
def events(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(ge_worker.shared(), "start", lambda: seen.append("ge worker started"))

    def run_stages(settings, names=None, **_):
        seen.append("run opens its lake")
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(commands, "run_stages", run_stages)
    return seen


def test_run_starts_the_ge_worker_before_the_run_opens_its_lake(tmp_path, events):
    assert main(["run", "--lake", str(tmp_path / "lake"), "--symbols", "AAA", "--no-dashboard"]) == 2
    assert events == ["ge worker started", "run opens its lake"]


def test_a_run_on_an_s3_lake_starts_no_worker(events, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # its clients are made, never called
    assert main(["run", "--lake", "s3://bucket/lake", "--workgroup", "wg", "--symbols", "AAA", "--no-dashboard"]) == 2
    assert events == ["run opens its lake"]
