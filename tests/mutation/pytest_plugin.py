"""A pytest plugin that only mutmut's runs load (pyproject [tool.mutmut] pytest_add_cli_args).

Inside one mutant's run (mutmut names it in MUTANT_UNDER_TEST) it keeps only the tests of the
mutated module (tests/mutation/selection.MODULE_TESTS) and runs them fastest first, by the
durations mutmut recorded in its first pass: mutmut runs with `-x`, so a mutant is killed by its
cheapest failing test instead of after whichever slow end-to-end test the set happened to list
first. Outside a mutant's run (mutmut's first pass, its clean run) it changes nothing."""
from __future__ import annotations

import json
import os
from pathlib import Path

from tests.mutation import selection

STATS = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, where it keeps this


def _durations() -> dict[str, float]:
    try:
        return json.loads(STATS.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return {}


def narrowed(nodeids: list[str], mutant: str, durations: dict[str, float]) -> list[str]:
    """The node ids a mutant's run keeps, in the order it runs them."""
    paths = selection.tests_for(mutant)
    kept = [n for n in nodeids if n.startswith(paths)] if paths else list(nodeids)
    return sorted(kept, key=lambda n: (durations.get(n, 0.0), n))


def pytest_collection_modifyitems(session, config, items):
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in mutant:
        return
    order = narrowed([item.nodeid for item in items], mutant, _durations())
    by_id = {item.nodeid: item for item in items}
    kept = set(order)
    dropped = [item for item in items if item.nodeid not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [by_id[n] for n in order]
