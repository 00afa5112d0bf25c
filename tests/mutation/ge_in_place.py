"""Great Expectations in place, imported once, for the mutation runs' forked children.

A mutant's run is a child forked from a process that has imported the project (mutmut's parent,
or sql_worker.py's worker). Left as it is, the local runtime gives each child a Great
Expectations worker process of its own (glue_jobs/audit/ge_worker.py), which imports GE anew:
about 3 s of CPU for every mutant whose tests reach an audit, thousands of seconds over a whole
`make mutate`. Here the parent imports GE once and the runtime gives no worker, so the audit
validates in place, as it does on Glue (glue_jobs/audit/stage.py builds ge_suite.Suite), with the
same suites and the same failing positions (tests/glue_jobs/audit/test_ge_worker.py holds the
two ways equal). The unmutated runs (mutmut's first pass and clean run, sql_mutate.py's clean
run) use it too, so a test that needs the worker fails there, before any mutant is judged.
"""
from __future__ import annotations

import os


def use() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # as the audit's Suite sets it
    from glue_jobs.audit import ge_worker

    ge_worker.shared = _no_worker
    import great_expectations  # noqa: F401
    import great_expectations.expectations  # noqa: F401
    from great_expectations.data_context.types import base  # noqa: F401


def _no_worker() -> None:
    return None
