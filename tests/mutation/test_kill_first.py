"""Kill-first ordering: a mutant's run starts with the tests that killed its function's (then its
module's) other mutants, and still runs every test when nothing fails, so no verdict changes."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from tests.mutation import kills, selection

ROOT = Path(__file__).resolve().parents[2]
MOD = "glue_jobs.wap.publish"


def test_tests_that_killed_the_same_function_come_first_most_kills_first_then_the_same_module():
    ordered = ["fast", "medium", "slow_a", "slow_b", "slowest"]  # fastest first, as narrowed() gives
    log = [(f"{MOD}.x__publish__mutmut_1", "slow_b"), (f"{MOD}.x__publish__mutmut_2", "slowest"),
           (f"{MOD}.x__publish__mutmut_3", "slowest"), (f"{MOD}.x__damage__mutmut_1", "slow_a"),
           ("glue_jobs.wap.write_temp.x_run__mutmut_1", "medium")]  # another module: no say
    order = kills.for_mutant(ordered, f"{MOD}.x__publish__mutmut_9", log, selection.module_of)
    assert order == ["slowest", "slow_b", "slow_a", "fast", "medium"]


def test_with_no_kills_logged_the_order_stays_fastest_first():
    ordered = ["a", "b", "c"]
    assert kills.for_mutant(ordered, f"{MOD}.x_f__mutmut_1", [], selection.module_of) == ordered


def test_a_method_and_a_function_of_the_same_name_are_different_functions():
    assert kills.function_of("glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_13") == "glue_jobs.lake.lock.xǁLakeLockǁacquire"
    log = [("glue_jobs.lake.lock.x_acquire__mutmut_1", "b"), ("glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_1", "c")]
    order = kills.for_mutant(["a", "b", "c"], "glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_2", log,
                             selection.module_of)
    assert order == ["c", "b", "a"]


def test_the_order_is_always_the_same_tests_never_fewer_or_more():
    rng = random.Random(16)
    for _ in range(300):
        ordered = [f"t{k}" for k in range(rng.randint(0, 12))]
        log = [(f"{rng.choice([MOD, 'm.other'])}.x_{rng.choice('fg')}__mutmut_{rng.randint(1, 5)}",
                rng.choice(ordered + ["gone"])) for _ in range(rng.randint(0, 20))]
        order = kills.for_mutant(ordered, f"{MOD}.x_f__mutmut_7", log, selection.module_of)
        assert sorted(order) == sorted(ordered) and len(order) == len(ordered)


def test_two_writers_appending_at_once_leave_every_line_whole(tmp_path):
    log = tmp_path / "kills.log"
    script = ("import sys; from pathlib import Path; from tests.mutation import kills\n"
              "for k in range(400): kills.record(Path(sys.argv[1]), f'm.x_f__mutmut_{k}', sys.argv[2] * 300)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", script, str(log), letter], env=env) for letter in "ab"]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    records = kills.read(log)
    assert len(records) == 800
    assert all(test in ("a" * 300, "b" * 300) for _, test in records)


def test_a_torn_last_line_is_not_read_as_a_kill(tmp_path):
    log = tmp_path / "kills.log"
    log.write_text("m.x_f__mutmut_1\ttests/t.py::test_a\nm.x_f__mutmut_2\ttests/t.py::te")
    assert kills.read(log) == [("m.x_f__mutmut_1", "tests/t.py::test_a")]
    assert kills.read(tmp_path / "missing.log") == []


_TESTS = '''
import json
import os
def test_fast():
    pass
def test_medium():
    pass
def test_killer():
    assert os.environ.get("BREAK") != "1"
'''


def _mutant_run(case: Path, mutant: str, broken: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "PYTHONPATH": str(ROOT), "BREAK": "1" if broken else "0"}
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-v", "-p", "tests.mutation.pytest_plugin",
                           "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(case), "test_case.py"],
                          cwd=case, env=env, capture_output=True, text=True, timeout=600)


def test_a_mutants_run_logs_its_killer_runs_it_first_for_the_next_and_a_survivor_runs_everything(tmp_path):
    """Through pytest and the plugin: the first mutant reaches the killing test after test_fast
    (fastest-first, by name when no durations are recorded), the log names it, the next mutant of that function runs it
    first; a survivor of the same function still runs all three tests."""
    case = tmp_path / "case"
    case.mkdir()
    (case / "test_case.py").write_text(_TESTS)
    first = _mutant_run(case, "elsewhere.x_f__mutmut_1", broken=True)
    assert first.returncode == 1, first.stdout + first.stderr
    assert first.stdout.index("test_fast PASSED") < first.stdout.index("test_killer FAILED")
    assert kills.read(case / "mutation-kills.log") == [("elsewhere.x_f__mutmut_1", "test_case.py::test_killer")]

    second = _mutant_run(case, "elsewhere.x_f__mutmut_2", broken=True)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "test_killer FAILED" in second.stdout and "test_fast" not in second.stdout

    survivor = _mutant_run(case, "elsewhere.x_f__mutmut_3", broken=False)
    assert survivor.returncode == 0, survivor.stdout + survivor.stderr
    assert "3 passed" in survivor.stdout
    assert survivor.stdout.index("test_killer PASSED") < survivor.stdout.index("test_fast PASSED")
    assert len(kills.read(case / "mutation-kills.log")) == 2


def test_the_test_that_killed_this_very_mutant_before_runs_first_even_if_it_rarely_kills():
    ordered = ["fast", "medium", "rare", "slowest"]
    log = [(f"{MOD}.x__publish__mutmut_1", "slowest"), (f"{MOD}.x__publish__mutmut_2", "slowest"),
           (f"{MOD}.x__publish__mutmut_7", "rare")]
    order = kills.for_mutant(ordered, f"{MOD}.x__publish__mutmut_7", log, selection.module_of)
    assert order == ["rare", "slowest", "fast", "medium"]


def test_hints_round_trip_through_their_file_each_test_written_once(tmp_path):
    from tests.mutation import kill_hints

    log = tmp_path / "kills.log"
    for mutant, test in [(f"{MOD}.x__publish__mutmut_1", "t.py::a"), (f"{MOD}.x__publish__mutmut_1", "t.py::b"),
                         (f"{MOD}.xǁLockǁacquire__mutmut_12", "t.py::a")]:
        kills.record(log, mutant, test)
    sql = {"wap/publish/merge.sql:union:0a1b2c3d": {"status": "killed", "killer": "t.py::c"},
           "wap/publish/merge.sql:limit:1": {"status": "survived"}}
    path = tmp_path / "hints.json"
    kill_hints.save(log, sql, path)
    doc = kill_hints.load(path)
    assert doc["tests"] == ["t.py::a", "t.py::b", "t.py::c"]
    # a mutant killed twice keeps its last killer
    assert sorted(kill_hints.python_kills(doc)) == [(f"{MOD}.x__publish__mutmut_1", "t.py::b"),
                                                    (f"{MOD}.xǁLockǁacquire__mutmut_12", "t.py::a")]
    assert kill_hints.sql_kills(doc) == {"wap/publish/merge.sql:union:0a1b2c3d": "t.py::c"}
    (tmp_path / "broken.json").write_text("{not json")
    assert kill_hints.python_kills(kill_hints.load(tmp_path / "broken.json")) == []
    assert kill_hints.load(tmp_path / "missing.json") == {}
    odd = {"tests": ["t.py::a"], "python": {f"{MOD}.x_f": {"1": 7}}, "sql": ["not", "a", "map"]}
    assert kill_hints.python_kills(odd) == [] and kill_hints.sql_kills(odd) == {}


def test_a_fresh_run_starts_a_hinted_mutant_with_the_test_that_killed_it_in_an_earlier_run(tmp_path):
    """Through pytest and the plugin, with no kill logged yet in this run: the mutant the hints
    name runs its killer first; another of the same function too (its function's kills); with
    the hints switched off it is fastest-first again."""
    from tests.mutation import kill_hints

    case = tmp_path / "case"
    case.mkdir()
    (case / "test_case.py").write_text(_TESTS)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps(kill_hints.encode({"elsewhere.x_f__mutmut_4": "test_case.py::test_killer"}, {})))
    os.environ["TICKERLAKE_KILL_HINTS"] = str(hints)
    try:
        hinted = _mutant_run(case, "elsewhere.x_f__mutmut_4", broken=True)
        sibling = _mutant_run(case, "elsewhere.x_f__mutmut_5", broken=True)
        os.environ["TICKERLAKE_KILL_HINTS"] = os.devnull
        (case / "mutation-kills.log").unlink()
        unhinted = _mutant_run(case, "elsewhere.x_f__mutmut_4", broken=True)
    finally:
        del os.environ["TICKERLAKE_KILL_HINTS"]
    for run in (hinted, sibling, unhinted):
        assert run.returncode == 1, run.stdout + run.stderr
    assert "test_killer FAILED" in hinted.stdout and "test_fast" not in hinted.stdout
    assert "test_killer FAILED" in sibling.stdout and "test_fast" not in sibling.stdout
    assert unhinted.stdout.index("test_fast PASSED") < unhinted.stdout.index("test_killer FAILED")
