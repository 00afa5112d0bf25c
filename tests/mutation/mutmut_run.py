"""`mutmut run`, less its clean run when its first pass ran in the same command.

mutmut 3.8's `run` collects its stats (the first pass: every selected test, unmutated, noting
which functions each reaches), then runs the tests the named mutants need, unmutated again (the
clean run), to be sure they pass before it reads a failure as a kill. The first pass already is
that proof: it runs the same tests on the same code, and a failing test stops the command there
("failed to collect stats"). So after a first pass the clean run is skipped: it took about three
minutes of one core, the other idle, in the 41-minute `make mutate` of 2026-12-01 10:25. When mutmut
loads the stats an earlier command collected instead, the code or tests may have changed since,
and the clean run runs as mutmut has it. Everything else is mutmut's own `run`:

    python tests/mutation/mutmut_run.py run [--max-children 2] NAME ...
"""
from __future__ import annotations

import sys


def first_pass_proves_clean() -> None:
    """Patch mutmut so that a clean run after a first pass in this process returns 0 unrun."""
    import mutmut.__main__ as cli
    from mutmut.workers import isolation

    collected = []
    collect = cli.run_stats_collection

    def run_stats_collection(runner, tests=None):
        collect(runner, tests)  # exits the command when a test fails
        collected.append(tests)

    cli.run_stats_collection = run_stats_collection
    for runner in (isolation.ForkServerRunner, isolation.ForkRunner):
        clean = runner.run_clean_tests

        def run_clean_tests(self, tests, clean=clean):
            # an incremental first pass (new tests only) proves nothing of the others
            if any(t is None or not list(t) for t in collected):
                # past mutmut's spinner, which swallows what is printed while it spins
                print("    clean run skipped: the first pass ran every selected test unmutated, all passed",
                      file=sys.__stdout__, flush=True)
                return 0
            return clean(self, tests)

        runner.run_clean_tests = run_clean_tests


if __name__ == "__main__":
    first_pass_proves_clean()
    from mutmut.__main__ import cli as mutmut_cli

    sys.exit(mutmut_cli(sys.argv[1:]))
