"""`make mutate`'s choices: each core module's mutants are judged by that module's own tests,
cheapest first, and a second run re-tests only what is still alive."""
from __future__ import annotations

import sys
from pathlib import Path

import tomllib

from tests.mutation import pytest_plugin, selection

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
import mutate  # noqa: E402


def _mutmut_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def test_a_mutants_run_keeps_only_its_modules_tests_fastest_first():
    nodeids = ["tests/glue_jobs/wap/test_wap_end_to_end.py::test_slow",
               "tests/glue_jobs/ops/test_rollback_three_runs.py::test_three",
               "tests/glue_jobs/ops/test_rollback_plan.py::test_b",
               "tests/glue_jobs/ops/test_rollback_plan.py::test_a"]
    durations = {nodeids[0]: 9.0, nodeids[1]: 2.0, nodeids[2]: 0.01, nodeids[3]: 0.02}
    kept = pytest_plugin.narrowed(nodeids, "glue_jobs.ops.rollback_plan.x_plan_rollback__mutmut_7", durations)
    assert kept == [nodeids[2], nodeids[3], nodeids[1]]


def test_a_method_mutant_is_judged_by_its_modules_tests():
    mutant = "glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_3"
    assert selection.module_of(mutant) == "glue_jobs.lake.lock"
    kept = pytest_plugin.narrowed(["tests/glue_jobs/lake/test_lake_lock.py::t",
                                   "tests/glue_jobs/wap/test_wap_end_to_end.py::t"], mutant, {})
    assert kept == ["tests/glue_jobs/lake/test_lake_lock.py::t"]


def test_every_mutated_file_has_tests_that_mutmuts_first_pass_runs():
    """A module's tests outside pyproject's selection are never recorded as reaching it, so its
    mutants would all read 'no tests'; a file mutmut mutates without an entry would be judged by
    whatever end-to-end test happened to reach it."""
    config = _mutmut_config()
    modules = {f[:-3].replace("/", ".") for f in config["only_mutate"]}
    assert modules == set(selection.MODULE_TESTS)
    selected = config["pytest_add_cli_args_test_selection"]
    for module, paths in selection.MODULE_TESTS.items():
        for path in paths:
            assert (ROOT / path).exists(), f"{module}: {path} does not exist"
            assert any(path.startswith(s) for s in selected), f"{module}: {path} is not in the selection"
    assert "tests.mutation.pytest_plugin" in config["pytest_add_cli_args"]


def test_the_narrowed_modules_name_functions_they_have():
    """A renamed function would silently drop out of `make mutate` (its pattern matches nothing)."""
    for module, names in ((selection.ENGINE, selection.ENGINE_CORE), (selection.TRANSLATE, selection.TRANSLATE_CORE)):
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
        for name in names:
            assert f"def {name.split('ǁ')[-1]}(" in source, f"{module}: {name}"
    assert selection.in_core("glue_jobs.adapters.local.duckdb_engine.x__prune_plan__mutmut_1")
    assert selection.in_core("glue_jobs.adapters.local.duckdb_engine.xǁDuckDBEngineǁ_prunable__mutmut_2")
    assert not selection.in_core("glue_jobs.adapters.local.duckdb_engine.xǁDuckDBEngineǁwrite_parquet__mutmut_1")
    assert selection.in_core("glue_jobs.adapters.local.athena_sql.translate.x__result__mutmut_39")
    assert selection.in_core("glue_jobs.adapters.local.athena_sql.translate.x_translate__mutmut_1")
    assert not selection.in_core("glue_jobs.adapters.local.athena_sql.translate.x__resolution_error__mutmut_1")
    assert not selection.in_core("glue_jobs.adapters.local.athena_sql.translate.xǁTranslationǁduckdb__mutmut_1")
    assert selection.in_core("glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_3")
    assert selection.in_core("glue_jobs.audit.rules.x_check__mutmut_1")


def test_a_run_tests_what_is_alive_and_never_the_equivalents_listed_with_the_same_diff():
    statuses = {"m.x_f__mutmut_1": "killed", "m.x_f__mutmut_2": "survived", "m.x_f__mutmut_3": "not checked",
                "m.x_f__mutmut_4": "survived", "m.x_f__mutmut_5": "timeout", "m.x_f__mutmut_6": "no tests",
                "m.x_f__mutmut_7": "not checked"}
    skip = {"m.x_f__mutmut_4", "m.x_f__mutmut_7"}  # equivalents.judge: listed, diff unchanged
    assert mutate.to_test(statuses, skip) == ["m.x_f__mutmut_2", "m.x_f__mutmut_3", "m.x_f__mutmut_6"]
    assert mutate.to_test(statuses, skip, everything=True) == [
        "m.x_f__mutmut_1", "m.x_f__mutmut_2", "m.x_f__mutmut_3", "m.x_f__mutmut_5", "m.x_f__mutmut_6"]


def test_a_mutants_run_starts_with_the_translation_caches_empty():
    """A forked run inherits mutmut's earlier translations: a mutant of the translation layer
    would never be called for a statement the parent translated, and survive."""
    import importlib

    translate = importlib.import_module("glue_jobs.adapters.local.athena_sql.translate")
    translate.translate("select 1 as a", {})
    assert translate._translate.cache_info().currsize >= 1
    assert pytest_plugin.clear_caches() >= 2
    assert translate._translate.cache_info().currsize == 0 and translate._parse.cache_info().currsize == 0


def _session_start_under(mutant: str, monkeypatch) -> int:
    """What pytest_sessionstart leaves in the translation cache, after one translation, in a mutant's run."""
    import importlib

    translate = importlib.import_module("glue_jobs.adapters.local.athena_sql.translate")
    translate.translate("select 2 as b", {})
    monkeypatch.setenv("MUTANT_UNDER_TEST", mutant)
    pytest_plugin.pytest_sessionstart(None)
    return translate._translate.cache_info().currsize


def test_a_mutant_of_the_translation_or_the_engine_starts_cold_any_other_keeps_the_warm_up(monkeypatch):
    """The fork server's warm-up (tests/mutation/warm.py) translated every statement of a run with
    the unmutated code: a translation mutant must not be answered from it; a publish mutant may."""
    assert _session_start_under(f"{selection.TRANSLATE}.x__query__mutmut_3", monkeypatch) == 0
    assert _session_start_under(f"{selection.ENGINE}.x__prune_plan__mutmut_1", monkeypatch) == 0
    assert _session_start_under("glue_jobs.wap.publish.x_run__mutmut_4", monkeypatch) >= 1
    assert _session_start_under("glue_jobs.audit.rules.x_screen__mutmut_1", monkeypatch) >= 1


def test_a_mutant_that_hangs_fails_its_test_in_seconds(tmp_path):
    """A `while True` whose exit a mutation removed: the test fails (the mutant is killed) after
    its budget instead of holding a worker until mutmut's timeout."""
    import os
    import subprocess

    (tmp_path / "test_loop.py").write_text(
        "from tests.mutation import pytest_plugin\n"
        "pytest_plugin.HANG_GRACE_S = 0.5\n"
        "def test_loop():\n    while True:\n        pass\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MUTANT_UNDER_TEST": "somewhere.x_f__mutmut_1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.mutation.pytest_plugin",
                           "-p", "no:cacheprovider", "test_loop.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MutantHangs" in done.stdout
    assert pytest_plugin.hang_budget("t", {"t": 2.0}) == 2.0 * pytest_plugin.HANG_FACTOR + pytest_plugin.HANG_GRACE_S


def test_the_estimate_projects_each_module_from_its_timed_mutants_and_leaves_out_the_untimed():
    rows, total = mutate.projection({"a": (120, [1.0, 3.0]), "b": (50, [])}, children=2)
    assert rows == [("a", 120, 2, 2.0, 2.0), ("b", 50, 0, None, None)]
    assert total == 2.0  # 120 mutants x 2 s / 2 workers = 120 s; b is not measured, not free


def test_the_estimate_leaves_out_the_equivalents_a_fresh_run_skips(tmp_path):
    """A listed equivalent with a fingerprint is not run by a fresh run: it is neither counted nor
    timed (a survivor's seconds would inflate its module's mean)."""
    import json

    (tmp_path / "glue_jobs" / "lake").mkdir(parents=True)
    names = [f"glue_jobs.lake.lock.x_f__mutmut_{k}" for k in (1, 2, 3)]
    (tmp_path / "glue_jobs" / "lake" / "lock.py.meta").write_text(json.dumps({
        "exit_code_by_key": {names[0]: 1, names[1]: 1, names[2]: 0},
        "durations_by_key": {names[0]: 1.0, names[1]: 3.0, names[2]: 30.0}}))
    assert mutate.measured_durations(mutants=tmp_path) == {"glue_jobs.lake.lock": (3, [1.0, 3.0, 30.0])}
    assert mutate.measured_durations({names[2]}, tmp_path) == {"glue_jobs.lake.lock": (2, [1.0, 3.0])}
