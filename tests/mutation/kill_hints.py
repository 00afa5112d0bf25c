"""Which test killed each mutant in an earlier whole run, kept in the checkout
(tests/mutation/kill-hints.json) so that a fresh `make mutate` starts each mutant's run with its
killer instead of learning the order again.

Kill-first ordering (kills.py) learns within a run which tests kill a function's mutants; a
mutant killed only by a test that rarely kills still runs its other tests first: in the whole run
of 2026-12-01 that was about 1,000 s of the mutants' 3,600 s (publish alone 695 s), and a fresh
mutants/ starts with nothing learnt. Only the order changes: a hint naming a test that no longer
exists, or no longer kills, costs nothing but that order (a survivor still runs every test).

    python tests/mutation/mutate.py --save-kill-hints   # after a whole run: rewrite the file

The file maps each Python mutant (by function, then mutmut's number) and each SQL mutant (by id)
to an index into its list of tests, so that a test's long node id is written once.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from tests.mutation import kills

HINTS = Path(__file__).with_name("kill-hints.json")


def encode(python: dict[str, str], sql: dict[str, str]) -> dict:
    """{"tests": [...], "python": {function: {number: test index}}, "sql": {id: test index}}"""
    tests = sorted(set(python.values()) | set(sql.values()))
    index = {t: i for i, t in enumerate(tests)}
    by_function: dict[str, dict[str, int]] = {}
    for mutant, test in sorted(python.items()):
        function, _, number = mutant.rpartition("__mutmut_")
        by_function.setdefault(function, {})[number] = index[test]
    return {"tests": tests, "python": by_function, "sql": {i: index[t] for i, t in sorted(sql.items())}}


def python_kills(doc: dict) -> list[tuple[str, str]]:
    """(mutant, test) records, as kills.read gives them; none from a file of another shape (a
    hand edit): a run without hints is slower, not wrong."""
    try:
        tests = doc.get("tests", [])
        return [(f"{function}__mutmut_{number}", tests[i])
                for function, numbers in doc.get("python", {}).items() for number, i in numbers.items()]
    except (AttributeError, IndexError, KeyError, TypeError):
        return []


def sql_kills(doc: dict) -> dict[str, str]:
    """SQL mutant id -> the test that killed it (none from a file of another shape)."""
    try:
        tests = doc.get("tests", [])
        return {mutant: tests[i] for mutant, i in doc.get("sql", {}).items()}
    except (AttributeError, IndexError, KeyError, TypeError):
        return {}


def load(path: Path | None = None) -> dict:
    """The hints (TICKERLAKE_KILL_HINTS names another file: /dev/null for a run without them),
    or none when the file is missing or unreadable (a run without them is slower, not wrong)."""
    path = path or Path(os.environ.get("TICKERLAKE_KILL_HINTS") or HINTS)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def save(kill_log: Path, sql_results: dict[str, dict], path: Path = HINTS) -> str:
    """Rewrite the hints from a run's kill log (the last kill of each mutant) and the SQL run's
    results; what it wrote."""
    python = dict(kills.read(kill_log))
    sql = {mutant: result["killer"] for mutant, result in sql_results.items()
           if result.get("status") == "killed" and result.get("killer")}
    doc = encode(python, sql)
    path.write_text(json.dumps(doc, indent=0, sort_keys=True, ensure_ascii=False) + "\n")
    return f"{len(python)} Python and {len(sql)} SQL mutants' killers ({len(doc['tests'])} tests) written to {path.name}"
