"""Where the local engine spills a sort that does not fit its memory: a directory of the user's
own, made only when DuckDB spills and gone when the engine is, so a test suite or a mutation
run that opens thousands of engines leaves nothing behind in the temporary directory."""
import gc
import os
import tempfile

import pytest

from glue_jobs.adapters.local import duckdb_engine
from glue_jobs.runtime import build_local


@pytest.fixture
def tmp_root(tmp_path, monkeypatch):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _leftovers(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_engines_that_never_spill_leave_nothing_in_the_temporary_directory(tmp_root, tmp_path):
    for n in range(3):
        _, _, engine, _ = build_local(tmp_path / f"lake{n}")
        assert engine.query("select 1 as one").to_pylist() == [{"one": 1}]
    # the user's private parent, made once, and nothing in it
    assert _leftovers(tmp_root) == [f"tickerlake-duckdb-{os.getuid()}"]
    assert os.stat(tmp_root / f"tickerlake-duckdb-{os.getuid()}").st_mode & 0o777 == 0o700


def test_a_sort_bigger_than_the_memory_limit_spills_and_its_directory_goes_with_the_engine(tmp_root, tmp_path):
    storage, catalog, _, _ = build_local(tmp_path / "lake")
    engine = duckdb_engine.DuckDBEngine(storage, catalog, memory_limit="64MB", threads=1)
    spilled = engine.con.execute("select current_setting('temp_directory')").fetchone()[0]
    rows = engine.con.execute("select count(distinct s) from (select md5(range::varchar) s, range i "
                              "from range(3000000) order by s)").fetchone()[0]
    assert rows == 3_000_000
    assert os.path.isdir(spilled), "the sort did not spill: raise the row count"
    del engine
    gc.collect()
    assert not os.path.exists(spilled)


def test_a_shared_parent_that_others_can_read_is_not_used(tmp_root):
    shared = tmp_root / f"tickerlake-duckdb-{os.getuid()}"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    spill = duckdb_engine.spill_directory()
    assert not spill.startswith(str(shared) + os.sep)
    parent = os.path.dirname(spill)
    assert os.stat(parent).st_mode & 0o777 == 0o700
