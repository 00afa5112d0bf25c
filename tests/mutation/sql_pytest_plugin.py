"""A pytest plugin that tests/mutation/sql_mutate.py loads into its runs only.

With TICKERLAKE_SQLMUT_RECORD=<file> (the clean run) it writes each test's seconds to that file;
with TICKERLAKE_SQLMUT_ORDER=<file> (a mutant's run) it runs the tests fastest first by those
seconds: the runs use `-x`, so a mutant is killed by its cheapest failing test."""
from __future__ import annotations

import json
import os
from pathlib import Path

_durations: dict[str, float] = {}


def pytest_collection_modifyitems(session, config, items):
    order = os.environ.get("TICKERLAKE_SQLMUT_ORDER")
    if not order:
        return
    try:
        seconds = json.loads(Path(order).read_text())
    except (OSError, ValueError):
        return
    items.sort(key=lambda item: (seconds.get(item.nodeid, 0.0), item.nodeid))


def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    record = os.environ.get("TICKERLAKE_SQLMUT_RECORD")
    if record:
        Path(record).write_text(json.dumps(_durations, indent=1, sort_keys=True))
