"""Great Expectations in a process of its own: the local runtime's audit validates through it.

Importing GE (with the scipy and pydantic it pulls in) costs about 3 s of CPU. In the audit's
process it held the interpreter while crawl and write temp ran. A worker process started when
the command starts imports it on another core while ingest runs, then builds the audit's
suites and validates the frames the audit sends it, answering with the failing positions, as
glue_jobs.audit.ge_suite.Suite does in place. On Glue the audit is a job of its own and builds
its suites in place: glue_jobs.runtime gives only local contexts a worker.

One worker per process, started on first need. A command runs one pipeline, so the runner lets
it go once the run's last audit is done (let_go); a process that runs many pipelines one after
another (the test suite runs hundreds in two) sets keep_between_runs, and every later audit
finds GE imported. It ends when its input closes: at let_go, at exit, or when this process
dies. A worker that dies, or does not answer within its timeout, stops the audit with a
PipelineError naming it and the last lines it wrote; the next run starts a fresh one.

The protocol is pickles over the worker's stdin and a duplicate of its stdout (what GE prints
goes to its stderr, a temporary file kept for the error message):
    ("suite", rules)            -> ("ok", suite_number)
    ("validate", number, frame) -> ("ok", {rule: [positions]})  or ("failed", message)
"""
from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, BinaryIO

from glue_jobs.lake.errors import PipelineError

# How long one answer may take: the first waits for the import, which takes seconds, more on
# a loaded machine; a whole 250,000-row chunk validated in full takes a few seconds.
DEFAULT_TIMEOUT_S = 600.0
_PROTOCOL = 4  # Python 3.9's pickle has 5; 4 is enough and the same everywhere
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# Its own process group, so that a Ctrl-C at the terminal reaches the run (which then closes it)
# and not the worker; but the run's session, so that it shares the run's scheduling: with a
# session of its own, Linux's autogroup scheduled it apart from the run, at the default weight
# whatever the run's, and on a loaded machine the audit waited a minute for its 2 s of import.
_OWN_PROCESS_GROUP: dict[str, Any] = (
    {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp})


class WorkerSuite:
    """A suite built in the worker: the same failing_positions as ge_suite.Suite."""

    def __init__(self, worker: GeWorker, number: int):
        self.worker = worker
        self.number = number

    def failing_positions(self, frame: Any) -> dict[str, list[int]]:
        return self.worker.call(("validate", self.number, frame), "validating a chunk")


class GeWorker:
    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, command: list[str] | None = None):
        self.timeout_s = timeout_s
        self.command = command or [sys.executable, "-m", "glue_jobs.audit.ge_worker"]
        self._process: subprocess.Popen | None = None
        self._stderr: BinaryIO | None = None
        self._suites: dict[bytes, int] = {}
        self._lock = threading.RLock()
        self._owner = os.getpid()
        # let_go then keeps the worker for the next run: its GE import, 3 s of CPU, is paid once
        self.keep_between_runs = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker (it imports GE at once) unless it runs already."""
        with self._lock:
            if self._owner != os.getpid():  # a forked child: the parent's worker and pipes are the parent's
                self._process, self._stderr, self._suites, self._owner = None, None, {}, os.getpid()
            if self._process is not None and self._process.poll() is None and not self._process.stdin.closed:
                return
            self._forget()
            self._stderr = tempfile.TemporaryFile()
            env = {**os.environ, "GX_ANALYTICS_ENABLED": "false",
                   "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=self._stderr, env=env, cwd=_ROOT, **_OWN_PROCESS_GROUP)

    def suite_for(self, book: Any, rules: list | None = None) -> WorkerSuite:
        """The suite of `rules` (all of the book's row rules by default), built in the worker once."""
        chosen = tuple(book.row_rules if rules is None else rules)
        key = pickle.dumps(chosen, protocol=_PROTOCOL)  # a rule's kwargs are a dict: not hashable
        with self._lock:
            self.start()
            number = self._suites.get(key)
            if number is None:
                number = self._suites[key] = self.call(("suite", chosen), "building the audit's suite")
            return WorkerSuite(self, number)

    def call(self, request: tuple, doing: str) -> Any:
        with self._lock:
            process = self._process
            if process is None:
                raise PipelineError("the audit's Great Expectations worker was not started")
            try:
                pickle.dump(request, process.stdin, protocol=_PROTOCOL)
                process.stdin.flush()
                if not select.select([process.stdout], [], [], self.timeout_s)[0]:
                    raise TimeoutError
                status, value = pickle.load(process.stdout)
            except TimeoutError:
                raise self._stopped(doing, f"gave no answer in {self.timeout_s:g} s (stopped)") from None
            except (EOFError, OSError, pickle.UnpicklingError):
                raise self._stopped(doing, None) from None
            if status != "ok":
                raise PipelineError(value)
            return value

    def let_go(self) -> None:
        """Close the worker's input without waiting: it ends on its own, and its interpreter's
        teardown (more than close()'s 0.2 s with GE loaded, so close() killed it at every run's
        exit) runs on the other core beside the stages after the audit. close() then finds it
        ended; a later start() starts a new one. Nothing when keep_between_runs is set."""
        with self._lock:
            process = self._process if self._owner == os.getpid() and not self.keep_between_runs else None
            if process is not None:
                try:
                    process.stdin.close()
                except OSError:
                    pass

    def close(self) -> None:
        """End the worker: its input closes and it exits; killed if it has not within 0.2 s (it
        may still be importing GE, which nothing then needs: a run that stopped before its audit
        must not wait for it)."""
        with self._lock:
            process = self._process if self._owner == os.getpid() else None
            if process is not None:
                try:
                    process.stdin.close()
                    process.wait(timeout=0.2)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait()
            self._forget()

    def _forget(self) -> None:
        if self._process is not None:
            for pipe in (self._process.stdin, self._process.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
        if self._stderr is not None:
            self._stderr.close()
        self._process, self._stderr, self._suites = None, None, {}

    def _stopped(self, doing: str, how: str | None) -> PipelineError:
        process = self._process
        if process.poll() is None and how is not None:
            process.kill()
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if how is None:
            how = (f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}")
        self._stderr.seek(0)
        last = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-8:]
        pid = process.pid
        self._forget()
        said = ("; its last lines:\n    " + "\n    ".join(last)) if last else "; it wrote nothing"
        return PipelineError(
            f"audit: the Great Expectations worker (pid {pid}) {how} while {doing}{said}\n"
            "The audit wrote no verdict, so nothing was published; run the WAP stages again "
            "(tickerlake wap), which starts a new worker.")


_shared: GeWorker | None = None
_shared_guard = threading.Lock()


def shared() -> GeWorker:
    """This process's worker (made, not started, on first call)."""
    global _shared
    with _shared_guard:
        if _shared is None:
            _shared = GeWorker()
            atexit.register(_shared.close)
        return _shared


# -- the worker process ----------------------------------------------------------------------------


def _answer(request: tuple, suites: list, failure: str | None) -> tuple[str, Any]:
    from glue_jobs.audit import ge_suite

    if failure is not None:
        return "failed", failure
    kind = request[0]
    if kind == "suite":
        suites.append(ge_suite.Suite(None, list(request[1])))
        return "ok", len(suites) - 1
    if kind == "validate":
        return "ok", suites[request[1]].failing_positions(request[2])
    return "failed", f"audit: the Great Expectations worker got an unknown request {kind!r}"


# What importing GE loads that the worker's suites (pandas frames, an in-memory context) never
# use: a third of the import's CPU (2.8-3.0 -> 1.6-1.8 s measured). GE imports its AWS
# connectors only if installed (boto3 is, for the project's AWS side), so the worker hides them
# and GE takes them as absent, as it does wherever they are not installed. scipy.stats and
# altair it imports unconditionally for a few expectations (KL divergence, KS tests) and their
# renderers: those load lazily, on first use, so that they still work if ever used.
_ABSENT_IN_WORKER = ("boto3", "botocore", "pyathena")
_LAZY_IN_WORKER = frozenset({"altair", "scipy.stats"})


class _LoadOnFirstUse(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _LAZY_IN_WORKER:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def defer_unused_imports() -> None:
    """In the worker's process only, before GE is imported (see _ABSENT_IN_WORKER)."""
    for name in _ABSENT_IN_WORKER:
        sys.modules.setdefault(name, None)  # None: `import name` raises ImportError
    sys.meta_path.insert(0, _LoadOnFirstUse())


def main() -> int:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what GE prints goes to stderr, never into the answers
    requests = sys.stdin.buffer
    failure = None
    started = time.process_time()
    defer_unused_imports()
    try:
        from glue_jobs.audit import ge_suite

        ge_suite.warm_up()
    except Exception as exc:  # noqa: BLE001  # each request is answered with it
        failure = (f"audit: Great Expectations could not be loaded ({type(exc).__name__}: {exc}) in "
                   f"{sys.executable}; install the project's dependencies there (pip install -e .)")
    print(f"ge worker: ready in {time.process_time() - started:.2f} s of CPU", file=sys.stderr, flush=True)
    suites: list = []
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return 0
        try:
            answer = _answer(request, suites, failure)
        except PipelineError as exc:
            answer = ("failed", str(exc))
        except Exception as exc:  # noqa: BLE001  # the audit raises it, naming the worker
            answer = ("failed", f"audit: the Great Expectations worker failed: {type(exc).__name__}: {exc}")
        pickle.dump(answer, answers, protocol=_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    sys.exit(main())
