"""DuckDB and requests are the 'local' extra, not requirements of the wheel Glue installs: a
plain install that lacks one is told which package is missing and how to get it."""
from __future__ import annotations

import sys

import pytest

from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import open_runtime
from ingestion.sources import build_source


def test_a_local_lake_without_duckdb_names_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)  # what `import duckdb` meets when it is not installed
    with pytest.raises(ConfigError) as caught:
        open_runtime(str(tmp_path / "lake"), create=True)
    assert "'duckdb'" in str(caught.value)
    assert "pip install 'tickerlake[local]'" in str(caught.value)


def test_the_alphavantage_source_without_requests_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(ConfigError) as caught:
        build_source("alphavantage", env={"ALPHAVANTAGE_API_KEY": "k" * 16})
    assert "'requests'" in str(caught.value)
    assert "pip install 'tickerlake[local]'" in str(caught.value)


def test_the_synthetic_source_needs_no_requests(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    assert build_source("synthetic").__class__.__name__ == "SyntheticSource"
