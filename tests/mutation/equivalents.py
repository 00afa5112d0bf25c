"""tests/mutation/equivalent.md read and checked: a listed mutant is skipped only while its diff is
the one it was listed with.

An entry is ``- `name`: reason`` or, with the fingerprint of the diff it was listed with,
``- `name` (diff 1a2b3c4d): reason``. A name alone is not enough to skip a mutant: mutmut numbers
a function's mutants in order, so an edit of the function gives `x_f__mutmut_7` another change,
and a SQL mutant's id survives edits of the lines around it. So a fresh run skips an entry only
when the fingerprint of the mutant's diff today equals the listed one; an entry whose fingerprint
differs is run and reported "listed, but its diff changed: re-check"; an entry without one is run
(as every entry was before fingerprints) until `mutate.py --fingerprint-equivalents` fills it in.

Pure logic, no I/O: the callers read the file and produce the diffs (mutmut's for Python,
sql_mutate.diff for SQL)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_ENTRY = re.compile(r"^- `(?P<name>[^`]+)`(?: \(diff (?P<fp>[0-9a-f]{8})\))?: (?P<reason>.+)$", re.M)
_UNFINGERPRINTED = re.compile(r"^(- `(?P<name>[^`]+)`): ", re.M)


@dataclass(frozen=True)
class Entry:
    name: str
    fingerprint: str | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """What a run does with the listed mutants it has."""
    skip: frozenset[str]  # listed, diff unchanged: not run, counted as equivalent
    changed: frozenset[str]  # listed, but the diff differs from the listed one: run, re-check
    unfingerprinted: frozenset[str]  # listed without a fingerprint: run, as before fingerprints


def parse(text: str) -> dict[str, Entry]:
    return {m["name"]: Entry(m["name"], m["fp"], m["reason"]) for m in _ENTRY.finditer(text)}


def fingerprint(diff: str) -> str:
    """The first 8 hex of a sha256 over the diff's changed lines, each with its sign and its
    whitespace collapsed: the same change reformatted, or moved to another line number, keeps it;
    another change does not."""
    changed = [line[0] + " ".join(line[1:].split()) for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return hashlib.sha256("\n".join(changed).encode()).hexdigest()[:8]


def judge(entries: dict[str, Entry], fingerprints_now: dict[str, str]) -> Verdict:
    """`fingerprints_now`: the fingerprint of each existing mutant's diff today (a listed name
    missing from it is not a mutant any more and concerns no run)."""
    skip, changed, bare = set(), set(), set()
    for name, entry in entries.items():
        now = fingerprints_now.get(name)
        if now is None:
            continue
        if entry.fingerprint is None:
            bare.add(name)
        elif entry.fingerprint == now:
            skip.add(name)
        else:
            changed.add(name)
    return Verdict(frozenset(skip), frozenset(changed), frozenset(bare))


def fill(text: str, fingerprints_now: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with a fingerprint added to each entry that has none and names an existing mutant;
    the names filled. Entries that have one are left as they are (a changed diff is for a person
    to re-check, not for this to paper over)."""
    filled: list[str] = []

    def add(match: re.Match) -> str:
        fp = fingerprints_now.get(match["name"])
        if fp is None:
            return match.group(0)
        filled.append(match["name"])
        return f"{match.group(1)} (diff {fp}): "

    return _UNFINGERPRINTED.sub(add, text), filled
