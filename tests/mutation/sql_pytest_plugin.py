"""A pytest plugin that tests/mutation/sql_mutate.py loads into its runs only.

The clean run (TICKERLAKE_SQLMUT_RECORD=<file>) writes each test's seconds and the SQL files
it read (glue_jobs.lake.sql_files.load, with the project's caches emptied before each test so
that every read is seen). A mutant's run (TICKERLAKE_SQLMUT_ORDER=<that file>,
TICKERLAKE_SQLMUT_FILE=<the mutated file>) keeps only the tests that read the mutated file, a
test that never reads it cannot fail for it, and runs them fastest first: the runs use `-x`, so
a mutant is killed by its cheapest failing test. mutmut does the same for Python (the tests that
reach a function, tests/mutation/pytest_plugin.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.mutation import ge_in_place, kills

_seconds: dict[str, float] = {}
_reads: dict[str, set[str]] = {}
_current: list[str] = [""]


def _recording() -> bool:
    return bool(os.environ.get("TICKERLAKE_SQLMUT_RECORD"))


def pytest_configure(config):
    ge_in_place.use()
    if not _recording():
        return
    from glue_jobs.lake import sql_files

    original = sql_files.load

    def load(name: str) -> str:
        _reads.setdefault(_current[0], set()).add(name)
        return original(name)

    load.cache_clear = original.cache_clear  # tests/mutation/pytest_plugin.clear_caches finds it
    load.cache_info = original.cache_info
    sql_files.load = load


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _recording():
        from tests.mutation.pytest_plugin import clear_caches

        clear_caches()
    _current[0] = item.nodeid
    yield
    _current[0] = ""


def kept(nodeids: list[str], recorded: dict, mutated: str | None, killers: dict | None = None) -> list[str]:
    """The node ids a mutant's run keeps, in the order it runs them (`killers`: {"mutant": [the
    test that killed this very mutant in an earlier whole run], "file": [the tests that killed
    this file's mutants, one per kill], "folder": [the same for its folder's other files]})."""
    seconds, reads = recorded.get("seconds", {}), recorded.get("reads")
    if mutated and reads is not None:
        nodeids = [n for n in nodeids if mutated in reads.get(n, ())]
    fastest = sorted(nodeids, key=lambda n: (seconds.get(n, 0.0), n))
    killers = killers or {}
    return kills.kill_first(fastest, killers.get("file", ()), killers.get("folder", ()), killers.get("mutant", ()))


def pytest_collection_modifyitems(session, config, items):
    order = os.environ.get("TICKERLAKE_SQLMUT_ORDER")
    if not order:
        return
    try:
        recorded = json.loads(Path(order).read_text())
    except (OSError, ValueError):
        return
    keep = kept([item.nodeid for item in items], recorded, os.environ.get("TICKERLAKE_SQLMUT_FILE"),
                json.loads(os.environ.get("TICKERLAKE_SQLMUT_KILLS", "{}")))
    by_id = {item.nodeid: item for item in items}
    dropped = [item for item in items if item.nodeid not in set(keep)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [by_id[n] for n in keep]


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    record = os.environ.get("TICKERLAKE_SQLMUT_RECORD")
    if record:
        Path(record).write_text(json.dumps({"seconds": _seconds, "reads": {n: sorted(r) for n, r in _reads.items()}},
                                           indent=1, sort_keys=True))
