"""The local runtime's Great Expectations worker: the same verdicts as GE in place, and a
worker that dies, hangs or cannot import GE stops the audit with an error naming it, never
a hang and never a published day."""
from __future__ import annotations

import os
import signal
import sys
import time

import pandas as pd
import pytest

from glue_jobs.audit import ge_worker
from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit.ge_suite import Suite
from glue_jobs.audit.row_checks import rule_frame
from glue_jobs.lake import layout
from glue_jobs.lake.errors import PipelineError
from glue_jobs.runtime import open_runtime
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import land_synthetic
from workflows.runner import run_wap


@pytest.fixture
def worker():
    w = ge_worker.GeWorker(timeout_s=120)
    yield w
    w.close()


def _frame() -> pd.DataFrame:
    """Rows as the audit derives them, some failing: a negative close, high below low, a parse error."""
    import pyarrow as pa

    book = audit_rules.load_rules()
    n = 6
    table = pa.table({
        "symbol": ["AAA"] * n,
        "trade_date": pa.array([AS_OF] * n, pa.date32()),
        "forming_date": pa.array([AS_OF] * n, pa.date32()),
        "open": [10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
        "high": [11.0, 11.0, 9.0, 11.0, 11.0, 11.0],
        "low": [9.0, 9.0, 10.5, 9.0, 9.0, 9.0],
        "close": [10.5, -1.0, 10.0, 10.2, 10.1, 10.0],
        "volume": [100, 100, 100, 100, 100, 100],
        "parse_error": [None, None, None, "bad number", None, None],
        "trade_year": [AS_OF.year] * n,
    })
    frame = rule_frame(table)
    return audit_rules.derive(frame, as_of=AS_OF, rows_for_key={}), book


def test_the_worker_gives_the_verdict_ge_gives_in_place(worker):
    frame, book = _frame()
    in_place = Suite(book).failing_positions(frame)
    assert in_place, "the frame must fail some rules, or the comparison proves nothing"
    suite = worker.suite_for(book)
    assert suite.failing_positions(frame) == in_place
    assert worker.suite_for(book).number == suite.number  # built once per rule set
    some = list(book.row_rules)[:2]
    assert worker.suite_for(book, some).failing_positions(frame) == Suite(book, some).failing_positions(frame)


def test_a_worker_let_go_ends_on_its_own_and_a_later_audit_starts_a_new_one(worker):
    frame, book = _frame()
    verdict = worker.suite_for(book).failing_positions(frame)
    first = worker._process
    worker.let_go()  # what the runner does once the run's last audit is done
    # asked again while the first may still be ending: a new worker answers
    assert worker.suite_for(book).failing_positions(frame) == verdict
    assert worker.pid != first.pid
    assert first.wait(timeout=30) == 0  # the first ended by itself: not killed at the run's exit


def test_a_worker_kept_between_runs_answers_the_next_run_from_the_same_process(worker):
    frame, book = _frame()
    verdict = worker.suite_for(book).failing_positions(frame)
    first = worker.pid
    worker.keep_between_runs = True
    worker.let_go()  # as the runner does after each run's audit
    assert worker.suite_for(book).failing_positions(frame) == verdict
    assert worker.pid == first  # GE not imported again


def test_a_killed_worker_stops_the_audit_with_its_name_not_a_hang(worker):
    frame, book = _frame()
    suite = worker.suite_for(book)
    pid = worker.pid
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(PipelineError) as raised:
        suite.failing_positions(frame)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert f"worker (pid {pid}) was killed by signal SIGKILL while validating a chunk" in message
    assert "nothing was published" in message
    # the next audit starts a fresh worker
    assert worker.suite_for(book).failing_positions(frame) == Suite(book).failing_positions(frame)
    assert worker.pid != pid


def test_a_worker_that_does_not_answer_is_stopped_after_its_timeout(worker):
    frame, book = _frame()
    suite = worker.suite_for(book)
    pid = worker.pid
    os.kill(pid, signal.SIGSTOP)
    worker.timeout_s = 1
    started = time.monotonic()
    with pytest.raises(PipelineError, match=r"gave no answer in 1 s \(stopped\) while validating a chunk"):
        suite.failing_positions(frame)
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):  # killed, not left behind
        os.kill(pid, 0)


def test_a_worker_that_cannot_import_great_expectations_says_so():
    # the worker's interpreter finds no great_expectations (None in sys.modules blocks the import)
    command = [sys.executable, "-c", "import sys; sys.modules['great_expectations'] = None; "
               "from glue_jobs.audit.ge_worker import main; sys.exit(main())"]
    worker = ge_worker.GeWorker(timeout_s=120, command=command)
    try:
        with pytest.raises(PipelineError, match=r"^audit: Great Expectations could not be loaded \(ModuleNotFoundError.*pip install"):
            worker.suite_for(audit_rules.load_rules())
    finally:
        worker.close()


def test_a_worker_exiting_on_its_own_is_reported_with_its_last_lines():
    command = [sys.executable, "-c", "import sys; print('out of memory, say', file=sys.stderr); sys.exit(3)"]
    worker = ge_worker.GeWorker(timeout_s=120, command=command)
    with pytest.raises(PipelineError) as raised:
        worker.suite_for(audit_rules.load_rules())
    assert "exited with code 3 while building the audit's suite" in str(raised.value)
    assert "out of memory, say" in str(raised.value)
    worker.close()


def test_a_local_lake_s_runs_audit_through_the_process_s_worker(tmp_path):
    local = open_runtime(str(tmp_path / "lake"), create=True)
    assert local.context().ge_worker is ge_worker.shared()


def test_a_run_whose_worker_dies_publishes_nothing_and_says_why(make_ctx):
    ctx = make_ctx()
    land_synthetic(ctx.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA", "BBB"], days=30)
    dying = ge_worker.GeWorker(timeout_s=120, command=[sys.executable, "-c", "import sys; sys.exit(9)"])
    ctx.ge_worker = dying
    try:
        with pytest.raises(PipelineError, match=r"exited with code 9 while building the audit's suite"):
            run_wap(ctx)
    finally:
        dying.close()
    assert not ctx.storage.list_keys(layout.table_prefix(layout.PUBLISHED_TABLE))
    assert not ctx.storage.exists(layout.audit_marker_key(ctx.run_id))



def test_the_worker_starts_without_what_its_suites_never_use_and_loads_it_when_used():
    # the real worker's start-up (it warms up, then reads an empty input and returns); what it
    # left out of its GE import: GE's AWS connectors, and scipy.stats and altair until first used
    loaded = ("sorted(m for m in ('great_expectations.expectations', 'scipy.stats._stats_py', 'altair.vegalite', "
              "'botocore.client') if sys.modules.get(m))")
    code = ("import sys; from glue_jobs.audit import ge_worker; code = ge_worker.main(); "
            f"print({loaded}, code, file=sys.stderr); "
            "from scipy import stats; import altair; "  # as GE's KL divergence and its renderer use them
            f"print(round(float(stats.entropy([0.5, 0.5])), 4), altair.Chart.__name__, {loaded}, file=sys.stderr)")
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300, check=True)
    at_start, after_use = done.stderr.strip().splitlines()[-2:]
    assert at_start == "['great_expectations.expectations'] 0"
    assert after_use == "0.6931 Chart ['altair.vegalite', 'great_expectations.expectations', 'scipy.stats._stats_py']"


def test_a_ctrl_c_at_the_terminal_misses_the_worker_which_runs_in_the_run_s_session(worker):
    worker.start()
    # the terminal signals the foreground process group: the run's, not the worker's
    assert os.getpgid(worker.pid) == worker.pid != os.getpgid(0)
    # scheduled with the run (Linux's autogroups are per session), not apart from it
    assert os.getsid(worker.pid) == os.getsid(0)
