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


def test_the_second_engine_opens_while_the_selection_is_answered_not_after(tmp_path, monkeypatch):
    """The page's selection (its time range and symbols) is answered by the first engine alone;
    the second one is opened beside it, so the panels do not wait for it to open. The lake's
    time range query is held until a second engine exists: opened only after the selection, it
    would wait in vain."""
    import threading

    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine

    engine = build_demo_engine(tmp_path / "lake")
    opened = threading.Event()
    during_selection: list[bool] = []
    original_query, original_sibling = DuckDBEngine.query, DuckDBEngine.sibling

    def sibling(self):
        made = original_sibling(self)
        opened.set()
        return made

    def query(self, sql):
        if "min(first_date)" in sql:  # sql/panels/variables/time_bounds.sql, the selection's first
            during_selection.append(opened.wait(timeout=10))
        return original_query(self, sql)

    monkeypatch.setattr(DuckDBEngine, "sibling", sibling)
    monkeypatch.setattr(DuckDBEngine, "query", query)
    html = render_dashboard(engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()
    assert during_selection == [True]
    assert 'class="error"' not in html


def test_a_second_engine_that_cannot_open_fails_the_panels_it_was_asked_for_and_the_page_is_written(
        tmp_path, monkeypatch):
    import threading

    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine

    engine = build_demo_engine(tmp_path / "lake")

    def sibling(self):
        raise OSError("too many open files")

    monkeypatch.setattr(DuckDBEngine, "sibling", sibling)
    written: list[str] = []
    rendering = threading.Thread(target=lambda: written.append(
        render_dashboard(engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()), daemon=True)
    rendering.start()
    rendering.join(timeout=60)  # a panel waiting forever for an engine that never opened: no page
    assert written, "the page was not written"
    html = written[0]
    panels = dict(re.findall(r'data-panel-id="(\w+)"(.*?)</section>', html, re.S))
    failed = [pid for pid, body in panels.items() if 'class="error"' in body]
    assert all("too many open files" in panels[pid] for pid in failed)
    assert len(failed) < len(panels)  # the first engine answered the others
