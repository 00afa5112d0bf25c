"""`make mutate` runs mutmut without its clean run when the first pass ran in the same command
(tests/mutation/mutmut_run.py): the first pass is the same tests on the same code, and a test
that fails there stops the command before any mutant is judged."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, str(ROOT / "tests" / "mutation" / "mutmut_run.py"), "run", "--max-children", "1"]


def _project(tmp_path: Path, expected: int) -> dict:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "limits.py").write_text("def tries():\n    return 3\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_limits.py").write_text("from pkg.limits import tries\n\n"
                                                        f"def test_tries():\n    assert tries() == {expected}\n")
    (tmp_path / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["pkg"]\n')
    return {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}


def _exit_codes(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "mutants" / "pkg" / "limits.py.meta").read_text())["exit_code_by_key"]


def test_after_a_first_pass_the_clean_run_is_skipped_and_mutants_are_still_judged(tmp_path):
    env = _project(tmp_path, expected=3)
    done = subprocess.run(RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "clean run skipped" in done.stdout
    codes = _exit_codes(tmp_path)
    assert codes and all(code == 1 for code in codes.values()), codes  # every mutant of `return 3` killed

    # a second command loads those stats: the code may have changed since, so the clean run runs
    again = subprocess.run([*RUN, "pkg.limits.x_tries__mutmut_1"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "clean run skipped" not in again.stdout
    assert "Running clean tests" in again.stdout


def test_a_test_that_fails_unmutated_stops_the_command_before_any_mutant_is_judged(tmp_path):
    env = _project(tmp_path, expected=4)
    done = subprocess.run(RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "failed to collect stats" in done.stdout
    assert all(code is None for code in _exit_codes(tmp_path).values())
