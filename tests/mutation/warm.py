"""Two small write-audit-publish runs in the process a mutation run forks its mutants from, so
that each mutant's run starts warm.

A forked mutant's run inherits what its parent imported and cached, and mutmut's fork server
(and sql_worker.py's worker) had only collected the tests: the first pipeline run in every child
then paid for the modules a run imports on first use and for translating each statement, about
0.9 s of CPU for a run that takes 0.5 s warm (measured on one symbol's 300 sessions, forked
children, tmpfs), in each of the thousand mutants whose killing test publishes a lake. These two
runs, a first publish and a next day's merge, run the unmutated code (before any mutant is
chosen), in a directory of their own, removed after. What they cache is the translation of each
statement and the files read: pytest_plugin.py still empties those caches for a mutant of the
code behind them (the translation layer), and sql_worker.py for every SQL mutant.
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path


def pipeline(memory: Path = Path("/dev/shm")) -> Path:
    """Run the two runs in a directory of their own; which it was (removed by then)."""
    from glue_jobs.runtime import local_context
    from tests.support.contexts import AS_OF
    from tests.support.wap_fixtures import csv_body, land, land_synthetic
    from workflows.runner import run_wap

    root = Path(tempfile.mkdtemp(prefix="tickerlake-warm-", dir=memory if memory.is_dir() else None))
    try:
        first = local_context(root / "lake", run_id="20240308T230000Z-warm01", as_of=AS_OF)
        land_synthetic(first.storage, run_id="20240308T220000Z-warm01", as_of=AS_OF, symbols=["AAA", "BBB"],
                       days=300)
        run_wap(first)
        day = AS_OF + dt.timedelta(days=3)  # the next session, a Monday
        second = local_context(root / "lake", run_id="20240311T230000Z-warm02", as_of=day)
        land(second.storage, run_id="20240311T220000Z-warm02", ingest_date=day.isoformat(),
             bodies={"AAA": csv_body([(day.isoformat(), 10.0, 11.0, 9.5, 10.5, 1000)])})
        run_wap(second)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return root
