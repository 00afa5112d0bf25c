"""The engines answering the page's panels: while it renders, each keeps the Parquet files'
footers between queries (a dozen queries read every year of the published table), and once
it is written the engine reads files as the stages expect, each footer read again; the second
engine, which only ever answers beside the first, takes half the cores."""
from __future__ import annotations

import re

from tests.support.demo_lake import build_demo_engine
from workflows.dashboards import render_dashboard


def _keeps_footers(engine) -> bool:
    return engine.con.execute("select current_setting('parquet_metadata_cache')").fetchall()[0][0]


def test_the_page_engines_keep_footers_while_it_renders_and_not_after(tmp_path, monkeypatch):
    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine

    engine = build_demo_engine(tmp_path / "lake")
    assert not _keeps_footers(engine)
    seen: dict[int, set[bool]] = {}
    original = DuckDBEngine.query

    def query(self, sql):
        if "sql/panels/" in sql:
            seen.setdefault(id(self), set()).add(_keeps_footers(self))
        return original(self, sql)

    monkeypatch.setattr(DuckDBEngine, "query", query)
    before = render_dashboard(engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()
    assert seen and all(kept == {True} for kept in seen.values())  # each engine, every panel
    assert not _keeps_footers(engine)
    # and the page is the one it was: a second render, footers read afresh, draws the same
    again = render_dashboard(engine, tmp_path / "q.html", symbols=["AAPL", "IBM"]).read_text()
    clock = re.compile(r"generated: <b>[^<]*</b>")
    assert clock.sub("", before) == clock.sub("", again)
    assert not _keeps_footers(engine)


def test_a_second_engine_made_while_the_first_keeps_footers_keeps_them_too(tmp_path):
    engine = build_demo_engine(tmp_path / "lake")
    with engine.keeping_file_footers():
        sibling = engine.sibling()
        assert _keeps_footers(engine) and _keeps_footers(sibling)
    assert not _keeps_footers(engine)
    assert not _keeps_footers(engine.sibling())


def test_the_second_engine_takes_half_the_cores_and_the_first_keeps_them_all(tmp_path, monkeypatch):
    import os

    import duckdb

    def threads(engine) -> int:
        return engine.con.execute("select current_setting('threads')").fetchall()[0][0]

    engine = build_demo_engine(tmp_path / "lake")
    every_core = duckdb.connect().execute("select current_setting('threads')").fetchall()[0][0]
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert threads(engine.sibling()) == 4
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert threads(engine.sibling()) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert threads(engine.sibling()) == 1
    assert threads(engine) == every_core
