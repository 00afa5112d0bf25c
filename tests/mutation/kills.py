"""Which tests kill, learnt while a mutation run goes: kill-first ordering of a mutant's tests.

mutmut runs every mutant with `-x`, so a killed mutant costs the time until its first failing
test, and a run that lists the killing test first pays for that one test. Mutants of the same
function are killed by the same few tests (they break the same lines), and mutmut runs a
function's mutants one after the other, so the tests that killed its earlier mutants are the
best guess for the next one, then the ones that killed mutants of the same module; the rest keep
their fastest-first order. Only the order changes: a survivor still runs every test it was
given, so no verdict depends on it.

The log is append-only, one line per kill (`mutant<TAB>test`), each written by one `write` on a
descriptor opened with O_APPEND: the two children mutmut runs at once may append together
without tearing each other's lines. The same ordering serves the SQL mutants (sql_mutate.py),
keyed by file instead of function.
"""
from __future__ import annotations

import collections
import os
import re
from collections.abc import Iterable
from pathlib import Path

_MUTANT_SUFFIX = re.compile(r"__mutmut_\d+$")


def function_of(mutant: str) -> str:
    """glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_3 -> glue_jobs.lake.lock.xǁLakeLockǁacquire"""
    return _MUTANT_SUFFIX.sub("", mutant)


def kill_first(ordered: list[str], same_group: Iterable[str], same_family: Iterable[str],
               same_mutant: Iterable[str] = ()) -> list[str]:
    """`ordered` (the fastest-first node ids) reordered: the tests that killed this very mutant
    before (a hint from an earlier run: tests/mutation/kill_hints.py), then tests that killed
    mutants of the same group (a function; most kills first), then tests that killed mutants of
    the same family (a module), then the rest, each part keeping its order from `ordered`. The
    same ids, never fewer or more."""
    mutant = set(same_mutant)
    group, family = collections.Counter(same_group), collections.Counter(same_family)

    def rank(item: tuple[int, str]) -> tuple[int, int, int]:
        position, nodeid = item
        if nodeid in mutant:
            return 0, 0, position
        if group[nodeid]:
            return 1, -group[nodeid], position
        if family[nodeid]:
            return 2, -family[nodeid], position
        return 3, 0, position

    return [nodeid for _, nodeid in sorted(enumerate(ordered), key=rank)]


def for_mutant(ordered: list[str], mutant: str, kills: Iterable[tuple[str, str]], module_of) -> list[str]:
    """Kill-first order of a Python mutant's tests, from the log's (mutant, test) records."""
    function, module = function_of(mutant), module_of(mutant)
    same_mutant, same_function, same_module = [], [], []
    for killed, test in kills:
        if killed == mutant:
            same_mutant.append(test)
        if function_of(killed) == function:  # this very mutant's kill counts for its function too
            same_function.append(test)
        elif module_of(killed) == module:
            same_module.append(test)
    return kill_first(ordered, same_function, same_module, same_mutant)


def record(log: Path, mutant: str, test: str) -> None:
    """Append one kill; one write on an O_APPEND descriptor, so concurrent writers never interleave."""
    line = f"{mutant}\t{test}\n".encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(log: Path) -> list[tuple[str, str]]:
    """The (mutant, test) records; a torn last line (a writer killed mid-write) is left out."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    out = []
    for line in text.split("\n")[:-1]:  # the part after the last newline is unfinished
        mutant, tab, test = line.partition("\t")
        if tab and mutant and test:
            out.append((mutant, test))
    return out
