"""The SQL mutation worker: imports once, forks a child per mutant that writes the mutant into
its copy, empties the caches the worker's imports filled, and runs the tests; the worker puts the
file back whatever happened, stops a child at its timeout, and names the first failing test."""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.mutation import sql_pytest_plugin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
import sql_mutate  # noqa: E402
from sql_worker import Worker  # noqa: E402

SQL = "wap/write_temp/trade_years.sql"
PROBE = f'''
import os, time
from glue_jobs.lake import sql_files

AT_IMPORT = sql_files.load("{SQL}")  # fills the worker's cache: a child must not be answered from it

def test_a_fast_one():
    pass

def test_reads_the_file():
    assert "distinct" in sql_files.load("{SQL}").lower()

def test_sleeps_when_asked():
    if os.environ.get("PROBE_SLEEP"):
        time.sleep(60)
'''


@pytest.fixture
def worker(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT, copy, ignore=sql_mutate._not_copied, symlinks=True)
    (copy / "tests" / "test_sqlmut_probe.py").write_text(PROBE)
    w = Worker(copy, ["tests/test_sqlmut_probe.py"])
    yield w
    w.close()


def test_a_mutant_is_judged_in_a_child_and_its_file_restored_whatever_happened(worker, tmp_path):
    target = worker.copy / "sql" / SQL
    original = target.read_text()
    mutated = original.lower().replace("distinct", "")
    assert mutated != original.lower()
    tests = ("tests/test_sqlmut_probe.py",)
    basetemp = tmp_path / "bt"

    code, killer = worker.run(tests, basetemp, {}, 120, SQL, mutated)
    assert (code, killer) == (1, "tests/test_sqlmut_probe.py::test_reads_the_file")
    assert target.read_text() == original

    assert worker.run(tests, basetemp, {}, 120, SQL, original) == (0, None)

    started = time.monotonic()
    code, killer = worker.run(tests, basetemp, {"PROBE_SLEEP": "1"}, 3, SQL, original + "\n-- a comment\n")
    assert code is None and killer is None and time.monotonic() - started < 30  # stopped, not waited for
    assert target.read_text() == original
    assert worker.run(tests, basetemp, {}, 120, SQL, original) == (0, None)  # the worker goes on


def test_a_copy_whose_code_reads_another_checkouts_sql_is_refused(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT, copy, ignore=sql_mutate._not_copied, symlinks=True)
    shutil.rmtree(copy / "glue_jobs")  # the code found is then the installed checkout's
    with pytest.raises(SystemExit, match="reads its SQL from .*not its own sql/"):
        Worker(copy, [])


def test_a_sql_mutants_tests_run_kill_first_by_file_then_folder_then_fastest():
    recorded = {"seconds": {"t::a": 0.1, "t::b": 0.2, "t::c": 0.3, "t::d": 5.0},
                "reads": {n: ["wap/publish/merge.sql"] for n in ("t::a", "t::b", "t::c", "t::d")}}
    killers = {"file": ["t::d", "t::c", "t::d"], "folder": ["t::b"]}
    order = sql_pytest_plugin.kept(["t::a", "t::b", "t::c", "t::d"], recorded, "wap/publish/merge.sql", killers)
    assert order == ["t::d", "t::c", "t::b", "t::a"]


def test_the_killers_come_from_the_results_of_the_same_file_and_folder():
    results = {"a": {"status": "killed", "file": "wap/publish/merge.sql", "killer": "t::x"},
               "b": {"status": "killed", "file": "wap/publish/changes.sql", "killer": "t::y"},
               "c": {"status": "killed", "file": "wap/write_temp/dedupe.sql", "killer": "t::z"},
               "d": {"status": "survived", "file": "wap/publish/merge.sql"},
               "e": {"status": "killed", "file": "wap/publish/merge.sql"}}  # an older result: no killer kept
    assert sql_mutate.killers_for("wap/publish/merge.sql:union:0a1b2c3d", results) == {
        "mutant": [], "file": ["t::x"], "folder": ["t::y"]}


def test_an_earlier_whole_runs_killer_of_the_very_mutant_runs_first_and_its_kills_count_for_the_file():
    hinted = {"wap/publish/merge.sql:union:0a1b2c3d": "t::d", "wap/publish/merge.sql:limit:99999999": "t::c",
              "wap/publish/changes.sql:and_or:12345678": "t::b", "wap/write_temp/x.sql:and_or:1": "t::a"}
    killers = sql_mutate.killers_for("wap/publish/merge.sql:union:0a1b2c3d", {}, hinted)
    assert killers == {"mutant": ["t::d"], "file": ["t::d", "t::c"], "folder": ["t::b"]}
    recorded = {"seconds": {"t::a": 0.1, "t::b": 0.2, "t::c": 0.3, "t::d": 5.0, "t::e": 0.05}}
    killers["file"] = ["t::c", "t::c", "t::d"]  # the file's commonest killer is another test
    order = sql_pytest_plugin.kept(["t::a", "t::b", "t::c", "t::d", "t::e"], recorded, None, killers)
    assert order == ["t::d", "t::c", "t::b", "t::e", "t::a"]
