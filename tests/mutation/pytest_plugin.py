"""A pytest plugin that only mutmut's runs load (pyproject [tool.mutmut] pytest_add_cli_args).

Inside one mutant's run (mutmut names it in MUTANT_UNDER_TEST) it keeps only the tests of the
mutated module (tests/mutation/selection.MODULE_TESTS) and runs them kill-first: the tests that
killed other mutants of the same function in this run, then of the same module (KILLS, written
here, tests/mutation/kills.py), then the rest fastest first, by the durations mutmut recorded in
its first pass: mutmut runs with `-x`, so a mutant is killed by its likeliest, cheapest failing
test instead of after whichever slow end-to-end test the set happened to list first; a mutant
that an earlier whole run saw killed starts with its killer (tests/mutation/kill_hints.py). In
mutmut's fork server it runs two small pipeline runs before the first fork (tests/mutation/warm.py),
so every child starts with the project's lazy imports done and its statements translated; a
mutant of the code behind those caches (selection.BEHIND_CACHES: the translation of a statement,
its parse) empties them first, so it is called instead of answered from the unmutated code's result. And it
stops a test that runs far past its recorded time (HANG_FACTOR times it, plus HANG_GRACE_S): a
mutant that loops for ever (`while True` whose exit a mutation removed) fails that test in
seconds instead of holding a worker until mutmut's own timeout, which counts the time of every
test that reached the function, not of the few this run keeps. It gives each run a private
temporary directory in memory (/dev/shm when there is one), removed when the run ends: pytest's
own numbered directories under /tmp/pytest-of-<user> are shared with every other pytest on the
machine, and each session deletes the oldest beyond three, a whole test lake of thousands of
files, on disk, once per mutant. In every run mutmut makes, its first pass and clean run included,
the audit validates with Great Expectations in place, imported once in mutmut's parent
(tests/mutation/ge_in_place.py), not in a worker process each forked mutant would start; outside
a mutant's run that is all it changes."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from tests.mutation import ge_in_place, kill_hints, kills, selection, warm

STATS = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, where it keeps this
# beside it: each test's setup + call + teardown seconds in the unmutated runs. mutmut's stats
# time the call alone, so a test whose fixture publishes a lake looked cheaper than one that
# publishes in its body, and fastest-first ran the former first for every publish mutant.
WHOLE = Path("mutation-durations.json")
KILLS = Path("mutation-kills.log")  # beside it: which test killed which mutant, one line each
HANG_FACTOR, HANG_GRACE_S = 10.0, 5.0  # generous: the machine may be loaded
# read once, in mutmut's fork server (it imports this plugin when it collects to warm up)
HINTED = kill_hints.python_kills(kill_hints.load())


class MutantHangs(Exception):
    """A test ran far past its recorded time under this mutant."""


def hang_budget(nodeid: str, durations: dict[str, float]) -> float:
    return durations.get(nodeid, 0.0) * HANG_FACTOR + HANG_GRACE_S


def _durations() -> dict[str, float]:
    try:
        return json.loads(STATS.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return {}


def whole_durations(calls: dict[str, float], path: Path = WHOLE) -> dict[str, float]:
    """Each test's seconds with its fixtures, where the unmutated runs recorded them (the call's
    seconds otherwise): what a mutant's run pays for it, so what fastest-first orders by."""
    try:
        whole = json.loads(path.read_text())
    except (OSError, ValueError):
        whole = {}
    return {**calls, **whole}


def narrowed(nodeids: list[str], mutant: str, durations: dict[str, float]) -> list[str]:
    """The node ids a mutant's run keeps, in the order it runs them."""
    paths = selection.tests_for(mutant)
    kept = [n for n in nodeids if n.startswith(paths)] if paths else list(nodeids)
    return sorted(kept, key=lambda n: (durations.get(n, 0.0), n))


PACKAGES = ("glue_jobs", "ingestion", "workflows")
_DURATIONS = pytest.StashKey[dict]()
_BASETEMP = pytest.StashKey[Path]()
_recorded: set[str] = set()
_whole: dict[str, float] = {}


def _in_a_mutants_run() -> bool:
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "")


def clear_caches(modules=None) -> int:
    """Empty every lru_cache at module level in the project's modules; how many were emptied."""
    cleared = 0
    for name, module in list((modules or sys.modules).items()):
        if module is None or not name.startswith(PACKAGES):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()
                cleared += 1
    return cleared


def private_basetemp(pid: int, memory: Path = Path("/dev/shm")) -> Path:
    """Where a mutant's run keeps its tmp_path directories: in memory if the machine has it."""
    root = memory if memory.is_dir() and os.access(memory, os.W_OK) else Path(tempfile.gettempdir())
    return root / f"tickerlake-mutant-{pid}"


def remove_stale(root: Path, alive=None) -> list[Path]:
    """Remove the private directories of runs whose process is gone (a mutant killed for its time
    never reaches pytest_unconfigure); which were removed."""
    alive = alive or _alive
    gone = [d for d in root.glob("tickerlake-mutant-*")
            if d.name.rsplit("-", 1)[1].isdigit() and not alive(int(d.name.rsplit("-", 1)[1]))]
    for d in gone:
        shutil.rmtree(d, ignore_errors=True)
    return gone


def _alive(pid: int) -> bool:
    # the twin of glue_jobs.lake.lock's _pid_alive, kept apart on purpose: lock.py is one of the
    # mutated modules, and the plugin must not run a mutant's code to clean up after it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    ge_in_place.use()
    # before pytest's tmpdir plugin reads --basetemp in its own pytest_configure
    if _in_a_mutants_run() and not config.option.basetemp:
        config.option.basetemp = str(private_basetemp(os.getpid()))
        remove_stale(Path(config.option.basetemp).parent)
        config.stash[_BASETEMP] = Path(config.option.basetemp)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    basetemp = config.stash.get(_BASETEMP, None)
    if basetemp is not None:
        shutil.rmtree(basetemp, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    if _in_the_first_pass() and _whole:
        WHOLE.write_text(json.dumps(_whole, indent=0, sort_keys=True))


def pytest_sessionstart(session):
    if _in_a_mutants_run() and selection.module_of(os.environ["MUTANT_UNDER_TEST"]) in selection.BEHIND_CACHES:
        clear_caches()


def _in_the_fork_servers_warm_up(config) -> bool:
    # mutmut's fork server collects the selection once, unmutated (MUTANT_UNDER_TEST is empty
    # then), before it forks a child per mutant; no other run of mutmut's only collects with it
    return bool(config.option.collectonly) and os.environ.get("MUTANT_UNDER_TEST") == ""


def pytest_collection_finish(session):
    if not _in_the_fork_servers_warm_up(session.config):
        return
    try:
        used = warm.pipeline()
    except Exception as exc:  # noqa: BLE001 - a cold child is slower, not wrong
        print(f"mutation warm-up failed, every mutant's run starts cold: {exc!r}", file=sys.__stderr__)
    else:
        print(f"mutation warm-up: two pipeline runs before the fork, in {used}", file=sys.__stderr__)


def pytest_collection_modifyitems(session, config, items):
    if not _in_a_mutants_run():
        return
    mutant = os.environ["MUTANT_UNDER_TEST"]
    durations = _durations()
    config.stash[_DURATIONS] = durations  # the hang budget times the call, as these do
    order = kills.for_mutant(narrowed([item.nodeid for item in items], mutant, whole_durations(durations)), mutant,
                             HINTED + kills.read(KILLS), selection.module_of)
    by_id = {item.nodeid: item for item in items}
    kept = set(order)
    dropped = [item for item in items if item.nodeid not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [by_id[n] for n in order]


def _in_the_first_pass() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"  # mutmut's name for it


def pytest_runtest_logreport(report):
    if _in_the_first_pass():
        _whole[report.nodeid] = _whole.get(report.nodeid, 0.0) + report.duration
    if not report.failed or not _in_a_mutants_run():
        return
    mutant = os.environ["MUTANT_UNDER_TEST"]
    if mutant not in _recorded:  # the first failure is the kill (-x stops there; a teardown may fail too)
        _recorded.add(mutant)
        kills.record(KILLS, mutant, report.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not _in_a_mutants_run() or not hasattr(signal, "setitimer"):
        yield
        return
    budget = hang_budget(item.nodeid, item.config.stash.get(_DURATIONS, None) or {})

    def _stop(signum, frame):
        raise MutantHangs(f"{item.nodeid} ran over {budget:.0f} s under this mutant")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
