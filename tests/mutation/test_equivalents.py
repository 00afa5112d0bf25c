"""A listed equivalent is skipped only while its mutant's diff is the one it was listed with; a
changed one is run and reported for a re-check; fingerprints are filled in only where missing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.mutation import equivalents
from tests.mutation.sql_mutants import mutants

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
import mutate  # noqa: E402
import sql_mutate  # noqa: E402

DIFF = """--- glue_jobs/lake/lock.py
+++ glue_jobs/lake/lock.py
@@ -1,6 +1,6 @@
 def acquire(self) -> LakeLock:
-    for _ in range(3):
+    for _ in range(4):
         try:
"""


def test_the_fingerprint_keeps_to_the_change_not_its_place_or_spacing():
    moved = DIFF.replace("@@ -1,6 +1,6 @@", "@@ -40,6 +40,6 @@").replace("-    for", "-        for").replace("+    for", "+        for")
    other = DIFF.replace("range(4)", "range(5)")
    other_context = DIFF.replace("def acquire", "def release")
    fp = equivalents.fingerprint(DIFF)
    assert len(fp) == 8 and int(fp, 16) >= 0
    assert equivalents.fingerprint(moved) == fp
    assert equivalents.fingerprint(other) != fp
    assert equivalents.fingerprint(other_context) == fp  # context lines are not the change


def test_entries_are_read_with_or_without_a_fingerprint():
    text = ("# title\n\n- `m.x_f__mutmut_1`: the same value: it is read as a truth value.\n"
            "- `m.x_g__mutmut_2` (diff 0a1b2c3d): a bound, not a contract.\n"
            "- `wap/publish/merge.sql:union:f0e556fa` (diff ffffffff): removes no row: (a) and (b).\n"
            "not an entry: `m.x_h__mutmut_3`: text\n")
    entries = equivalents.parse(text)
    assert list(entries) == ["m.x_f__mutmut_1", "m.x_g__mutmut_2", "wap/publish/merge.sql:union:f0e556fa"]
    assert entries["m.x_f__mutmut_1"] == equivalents.Entry("m.x_f__mutmut_1", None,
                                                           "the same value: it is read as a truth value.")
    assert entries["m.x_g__mutmut_2"].fingerprint == "0a1b2c3d"
    assert entries["wap/publish/merge.sql:union:f0e556fa"].reason == "removes no row: (a) and (b)."


def test_only_an_unchanged_diff_is_skipped_a_changed_one_is_rerun_for_a_recheck():
    fp = equivalents.fingerprint(DIFF)
    entries = equivalents.parse(f"- `a`: r\n- `b` (diff {fp}): r\n- `c` (diff {fp}): r\n- `gone` (diff {fp}): r\n")
    now = {"a": fp, "b": fp, "c": equivalents.fingerprint(DIFF.replace("range(4)", "range(2)")), "x": fp}
    judged = equivalents.judge(entries, now)
    assert judged.skip == {"b"}
    assert judged.changed == {"c"}
    assert judged.unfingerprinted == {"a"}


def test_fill_adds_fingerprints_only_where_missing_and_keeps_the_rest_of_the_file():
    text = ("intro `x`: not an entry\n- `a`: reason a\n- `b` (diff 00000000): reason b\n"
            "- `gone`: reason g\n- `wap/q.sql:number:1234abcd`: reason s\n")
    new, filled = equivalents.fill(text, {"a": "11111111", "b": "22222222", "wap/q.sql:number:1234abcd": "33333333"})
    assert filled == ["a", "wap/q.sql:number:1234abcd"]
    assert new == ("intro `x`: not an entry\n- `a` (diff 11111111): reason a\n- `b` (diff 00000000): reason b\n"
                   "- `gone`: reason g\n- `wap/q.sql:number:1234abcd` (diff 33333333): reason s\n")
    assert equivalents.parse(new)["a"] == equivalents.Entry("a", "11111111", "reason a")


def test_the_report_counts_a_skipped_equivalent_as_equivalent_and_a_changed_one_as_a_survivor(tmp_path, monkeypatch):
    fp = equivalents.fingerprint(DIFF)
    entries = equivalents.parse(f"- `m.x_f__mutmut_2` (diff {fp}): same\n- `m.x_f__mutmut_3` (diff 00000000): was same\n")
    monkeypatch.setattr(mutate, "listed", lambda: entries)
    monkeypatch.setattr(mutate, "diffs", lambda names: {n: DIFF for n in names})
    monkeypatch.setattr(mutate, "REPORT", tmp_path / "report.md")
    statuses = {"m.x_f__mutmut_1": "killed", "m.x_f__mutmut_2": "not checked", "m.x_f__mutmut_3": "survived"}
    summary = mutate.write_report(statuses, None, mutate.verdict(statuses))
    assert summary.startswith("3 mutants: 1 killed (33.3%), 2 not (1 of them equivalent")
    assert "1 of those skipped as listed with the same diff): 50.0% of the non-equivalent ones killed" in summary
    assert "1 listed, but their diff changed: re-check them" in summary
    text = (tmp_path / "report.md").read_text()
    assert "### m.x_f__mutmut_2 (skipped; equivalent: same)" in text
    assert "### m.x_f__mutmut_3 (survived; listed, but its diff changed: re-check" in text


QUERY = "select a, b from t where a = 1 and b > 2 and c is null"


def test_a_sql_equivalent_is_skipped_while_its_diff_is_the_same_and_rechecked_when_it_changed():
    found = mutants("q.sql", QUERY)
    same, changed = found[0], found[1]
    originals = {"q.sql": QUERY}
    entries = {same.id: equivalents.Entry(same.id, equivalents.fingerprint(sql_mutate.diff(QUERY, same)), "why"),
               changed.id: equivalents.Entry(changed.id, "00000000", "why not")}
    judged = sql_mutate.judge(found, originals, entries)
    assert judged.skip == {same.id} and judged.changed == {changed.id}
    assert same not in sql_mutate.to_test(found, {}, judged.skip, everything=True)
    assert changed in sql_mutate.to_test(found, {}, judged.skip, everything=False)
    text, summary = sql_mutate.report(found, originals, {changed.id: {"status": "survived"}}, entries)
    assert f"### {same.id} (line {same.line}, skipped; equivalent: why)" in text
    assert f"### {changed.id} (line {changed.line}, survived; listed, but its diff changed: re-check" in text
    assert ", 1 equivalent, 1 left" in summary


def test_mutmut_generates_mutants_without_running_them_and_shows_their_diffs(tmp_path):
    """On a one-file project: `generate` leaves mutants/ as `mutmut run` finds it (every mutant
    known, none run), and `diffs` gives each named mutant's diff, the fingerprint's input."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "limits.py").write_text("def tries():\n    return 3\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_limits.py").write_text("from pkg.limits import tries\n\n"
                                                        "def test_tries():\n    assert tries() == 3\n")
    (tmp_path / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["pkg"]\n')
    helper = [sys.executable, str(ROOT / "tests" / "mutation" / "mutmut_mutants.py")]
    env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
    subprocess.run([*helper, "generate", "--max-children", "1"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    meta = json.loads((tmp_path / "mutants" / "pkg" / "limits.py.meta").read_text())
    names = sorted(meta["exit_code_by_key"])
    assert names and all(code is None for code in meta["exit_code_by_key"].values())
    out = subprocess.run([*helper, "diffs"], cwd=tmp_path, env=env, input="\n".join(names + ["pkg.nope.x_f__mutmut_1"]),
                         text=True, capture_output=True, check=True, timeout=300).stdout
    diffs = json.loads(out)
    assert sorted(diffs) == names
    assert "-    return 3\n+    return 4" in diffs["pkg.limits.x_tries__mutmut_1"]
