"""A SQL mutation worker: one per scratch copy, imports pytest and the project once and forks a
child per mutant, instead of a fresh `python -m pytest` (seconds of imports and collection) each.

The worker runs inside its copy (`python <copy>/tests/mutation/sql_worker.py`, the copy's root
first on sys.path) and answers one JSON line per JSON line on stdin:

    {"tests": [...], "file": "wap/publish/merge.sql" | null, "text": <mutated file> | null,
     "env": {...}, "timeout": 123.0 | null, "basetemp": "/dev/shm/..."}
 -> {"code": <pytest's exit code, null when stopped for its time>, "killer": <first failing test> | null}

The child writes the mutant into the copy, empties the project's caches
(pytest_plugin.clear_caches: the parent's imports may have read the file already), sets the
request's environment and runs pytest.main with `-x` and sql_pytest_plugin, its output thrown
away; the worker stops it at the timeout, then always puts the original file back, so a killed
child leaves no mutant behind. sql_mutate.py's `Worker` is the parent's side.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

COPY = Path(__file__).resolve().parents[2]


def pytest_args(tests: list[str], basetemp: str) -> list[str]:
    return ["-x", "-q", "-p", "no:cacheprovider", "-p", "tests.mutation.sql_pytest_plugin",
            "--basetemp", basetemp, *tests]


class _FirstFailure:
    """Sends the first failing test's id down a pipe (the kill, for kill-first ordering)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.sent = fd, False

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed and not self.sent:
            self.sent = True
            os.write(self.fd, report.nodeid.encode())


def _child(request: dict, fd: int) -> int:
    import pytest

    from tests.mutation.pytest_plugin import clear_caches

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # stdout is the worker's answer channel
    os.dup2(devnull, 2)
    if request.get("file"):
        (COPY / "sql" / request["file"]).write_text(request["text"])
    clear_caches()
    os.environ.update(request.get("env", {}))
    return int(pytest.main(pytest_args(request["tests"], request["basetemp"]), plugins=[_FirstFailure(fd)]))


def _wait(pid: int, timeout: float | None) -> int | None:
    """The child's exit code, or None after killing it at its timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def serve_one(request: dict) -> dict:
    target = COPY / "sql" / request["file"] if request.get("file") else None
    original = target.read_text() if target else None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the worker's loop
        code = 3
        try:
            os.close(read_fd)
            code = _child(request, write_fd)
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        code = _wait(pid, request.get("timeout"))
        killer = b""
        while select.select([read_fd], [], [], 0)[0]:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            killer += chunk
    finally:
        os.close(read_fd)
        if target is not None:
            target.write_text(original)
        shutil.rmtree(request["basetemp"], ignore_errors=True)
    return {"code": code, "killer": killer.decode() or None}


def _warm_up(tests: list[str]) -> str:
    """Import pytest, the project and the tests once, for every child to inherit; where the
    copy's code reads its SQL from (the parent checks it is the copy's own sql/)."""
    import pytest

    from glue_jobs.lake import sql_files
    from tests.mutation import ge_in_place

    ge_in_place.use()  # before the fork: every child inherits GE imported (ge_in_place.py)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        pytest.main(["--collect-only", "-qq", "-p", "no:cacheprovider", *tests])
        from tests.mutation import warm

        warm.pipeline()  # lazy imports done once (each child still empties the caches: its SQL changed)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    return str(sql_files.sql_dir())


def serve(tests: list[str]) -> None:
    os.chdir(COPY)
    sys.path.insert(0, str(COPY))
    print(json.dumps({"sql_dir": _warm_up(tests)}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(serve_one(json.loads(line))), flush=True)


class Worker:
    """The parent's side: a worker process in `copy`, warmed up on `tests`."""

    def __init__(self, copy: Path, tests: list[str]) -> None:
        self.copy = copy
        self.process = subprocess.Popen([sys.executable, str(copy / "tests" / "mutation" / "sql_worker.py"),
                                         *tests], cwd=copy, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        ready = self._answer()
        if Path(ready.get("sql_dir", "?")).resolve() != (copy / "sql").resolve():
            self.close()
            raise SystemExit(f"the scratch copy {copy} reads its SQL from {ready.get('sql_dir')}, not its own sql/")

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the SQL mutation worker in {self.copy} stopped (exit {self.process.wait()})")
        return json.loads(line)

    def run(self, tests: tuple[str, ...], basetemp: Path, env: dict[str, str], timeout: float | None,
            file: str | None = None, text: str | None = None) -> tuple[int | None, str | None]:
        """pytest's exit code (None: stopped for its time) and the first failing test."""
        request = {"tests": list(tests), "basetemp": str(basetemp), "env": env, "timeout": timeout,
                   "file": file, "text": text}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        return answer["code"], answer["killer"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # its loop ends after the mutant it is on
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()  # its own process, started above
                self.process.wait()


if __name__ == "__main__":
    serve(sys.argv[1:])
