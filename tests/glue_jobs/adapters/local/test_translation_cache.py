"""The local engine translates a statement's shape once and keeps it on disk: a later run with
other values in its IN lists answers with those values, without translating again; a damaged
or foreign cache file is only a miss."""
from __future__ import annotations

import pytest

from glue_jobs.adapters.local import athena_sql, translation_cache
from glue_jobs.runtime import build_local

SQL = "select count(*) as n from stocks.t where k in ({}) and v = {}"


@pytest.fixture
def lake(tmp_path, monkeypatch):
    monkeypatch.setenv(translation_cache.ENV_DIR, str(tmp_path / "cache"))
    lake = tmp_path / "lake"
    storage, catalog, engine, _ = build_local(lake)
    engine.write_parquet("select k, v from (values ('a', 'x'), ('b', 'x'), ('c', 'y')) as t(k, v)", "t/")
    from glue_jobs.ports.catalog import Column, TableDef

    catalog.create_table(TableDef("stocks", "t", "t/", "parquet", [Column("k", "string"), Column("v", "string")]))
    return lake


def test_a_new_process_reuses_the_shape_and_binds_its_own_values(lake, tmp_path, monkeypatch):
    _, _, first, _ = build_local(lake)
    assert first.query(SQL.format("'a', 'b'", "'x'")).to_pylist() == [{"n": 2}]
    assert list((tmp_path / "cache").glob("*.json"))

    def no_translation(*args, **kwargs):
        raise AssertionError("translated again")

    monkeypatch.setattr(athena_sql, "translate", no_translation)
    _, _, second, _ = build_local(lake)  # a new engine: nothing in its memory
    assert second.query(SQL.format("'c', 'zz'", "'y'")).to_pylist() == [{"n": 1}]
    assert second.query(SQL.format("'a', 'c'", "'x'")).to_pylist() == [{"n": 1}]
    assert second.query(SQL.format("'o''neil', 'c'", "'y'")).to_pylist() == [{"n": 1}]  # quotes survive binding


def test_a_damaged_cache_file_is_a_miss_and_a_refusal_keeps_the_users_words(lake, tmp_path):
    _, _, engine, _ = build_local(lake)
    engine.query(SQL.format("'a'", "'x'"))
    for path in (tmp_path / "cache").glob("*.json"):
        path.write_text("{not json")
    _, _, again, _ = build_local(lake)
    assert again.query(SQL.format("'b'", "'x'")).to_pylist() == [{"n": 1}]
    with pytest.raises(athena_sql.AthenaRejects, match=r"Cannot apply operator: varchar = integer"):
        again.query("select count(*) from stocks.t where k = 1")
