"""A mutant's run keeps its tmp_path directories private and removes them when it ends, instead
of deleting another pytest session's numbered directory (a whole test lake) on disk each time."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.mutation import pytest_plugin

ROOT = Path(__file__).resolve().parents[2]

_TEST = '''
import os, pathlib
def test_writes_a_lake(tmp_path):
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "part.csv").write_text("a,b\\n")
    pathlib.Path(os.environ["REPORT_TO"]).write_text(str(tmp_path))
'''


def _run(tmp_path: Path, mutant: str) -> Path:
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "test_writes.py").write_text(_TEST)
    report = tmp_path / "used.txt"
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "REPORT_TO": str(report), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.mutation.pytest_plugin",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path / "case"), "-c", os.devnull,
                           str(tmp_path / "case" / "test_writes.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return Path(report.read_text())


def test_a_mutants_run_writes_in_its_own_directory_and_removes_it(tmp_path):
    used = _run(tmp_path, "elsewhere.x_f__mutmut_1")  # a module without a test list keeps every test
    private = pytest_plugin.private_basetemp(0).parent
    assert used.is_relative_to(private) and used.parent.name.startswith("tickerlake-mutant-"), used
    assert not used.parent.exists(), f"{used.parent} was left behind"


def test_outside_a_mutants_run_pytest_keeps_its_own_directories(tmp_path):
    used = _run(tmp_path, "")
    assert "tickerlake-mutant-" not in str(used)


def test_the_private_directory_is_in_memory_when_the_machine_has_it(tmp_path):
    assert pytest_plugin.private_basetemp(7, memory=tmp_path) == tmp_path / "tickerlake-mutant-7"
    assert pytest_plugin.private_basetemp(7, memory=tmp_path / "absent").parent != tmp_path / "absent"


def test_the_directories_of_runs_whose_process_is_gone_are_removed(tmp_path):
    for pid in (11, 22):
        (tmp_path / f"tickerlake-mutant-{pid}" / "lake").mkdir(parents=True)
    (tmp_path / "someone-else").mkdir()
    gone = pytest_plugin.remove_stale(tmp_path, alive=lambda pid: pid == 22)
    assert gone == [tmp_path / "tickerlake-mutant-11"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someone-else", "tickerlake-mutant-22"]


def test_mutation_runs_audit_in_place_with_ge_imported_once_before_the_fork(tmp_path):
    """After ge_in_place.use() (what both mutation plugins and the SQL worker call before they
    fork) GE is imported and a local lake's runs get no GE worker process to start, so a forked
    mutant neither starts one nor imports GE again."""
    script = ("import sys\n"
              "from tests.mutation import ge_in_place\n"
              "from glue_jobs.runtime import open_runtime\n"
              "ge_in_place.use()\n"
              f"ctx = open_runtime({str(tmp_path / 'lake')!r}, create=True).context()\n"
              "print(ctx.ge_worker is None, 'great_expectations.expectations' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=300).stdout.split()
    assert out == ["True", "True"]


_SLOW_FIXTURE = '''
import time, pytest
@pytest.fixture
def lake():
    time.sleep(0.6)
def test_a_published_lake(lake):
    pass
def test_a_slow_call():
    time.sleep(0.2)
'''


def test_fastest_first_counts_a_tests_fixtures_not_only_its_call(tmp_path):
    """mutmut's first pass times each test's call alone; the plugin also keeps setup + call +
    teardown (mutation-durations.json beside mutmut's stats), and a mutant's run orders by that:
    a test whose fixture publishes a lake is not taken for the cheapest."""
    (tmp_path / "test_costs.py").write_text(_SLOW_FIXTURE)
    env = {**os.environ, "MUTANT_UNDER_TEST": "stats", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.mutation.pytest_plugin",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", os.devnull, "test_costs.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = {"test_costs.py::test_a_published_lake": 0.0, "test_costs.py::test_a_slow_call": 0.2}
    whole = pytest_plugin.whole_durations(calls, tmp_path / pytest_plugin.WHOLE)
    assert whole["test_costs.py::test_a_published_lake"] >= 0.6 > whole["test_costs.py::test_a_slow_call"] >= 0.2
    assert pytest_plugin.narrowed(sorted(calls), "elsewhere.x_f__mutmut_1", whole) == [
        "test_costs.py::test_a_slow_call", "test_costs.py::test_a_published_lake"]
    assert pytest_plugin.whole_durations(calls, tmp_path / "absent.json") == calls


def test_mutmuts_fork_server_warm_up_runs_the_pipeline_once_and_leaves_nothing_behind(tmp_path):
    """mutmut's fork server collects with MUTANT_UNDER_TEST empty: the plugin then runs warm.py's
    two pipeline runs there (and only there: a mutant's run or a plain collection does not)."""
    case = tmp_path / "case"
    case.mkdir()
    (case / "test_case.py").write_text("def test_a():\n    pass\n")

    def collect(mutant: str | None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
        if mutant is not None:
            env["MUTANT_UNDER_TEST"] = mutant
        env["PYTHONPATH"] = str(ROOT)
        return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-qqq", "-p",
                               "tests.mutation.pytest_plugin", "-p", "no:cacheprovider", "-c", os.devnull,
                               "--rootdir", str(case), "test_case.py"], cwd=case, env=env, capture_output=True,
                              text=True, timeout=600)

    warm_up = collect("")
    assert warm_up.returncode == 0, warm_up.stdout + warm_up.stderr
    said = [line for line in warm_up.stderr.splitlines() if line.startswith("mutation warm-up: two pipeline runs")]
    assert said, warm_up.stderr
    used = Path(said[0].rsplit(" in ", 1)[1])
    assert used.name.startswith("tickerlake-warm-") and not used.exists()  # other runs may warm beside it
    for other in (collect(None), collect("stats")):
        assert other.returncode == 0 and "warm-up" not in other.stderr
