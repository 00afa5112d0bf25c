"""`make mutate`: run mutmut over the core modules (tests/mutation/selection.py, pyproject's
[tool.mutmut]) and write a report of what it found: test-artifacts/mutation/report.md (every
surviving mutant with its diff, the ones tests/mutation/equivalent.md explains marked as such)
and a printed summary; --report-only also rewrites the SQL's report (tests/mutation/sql_mutate.py,
test-artifacts/mutation/report-sql.md), which `make mutate` runs after this.

    python tests/mutation/mutate.py [--max-children 2] [--all] [PATTERN ...]
    python tests/mutation/mutate.py --estimate [--max-children 2]

--estimate runs nothing: from the seconds mutmut recorded for each mutant it tested (mutants/),
it projects each module's whole core set and the whole run (measured at whatever load the
machine had then: say it with the figure).

PATTERNs are mutmut's mutant-name globs (default: selection.CORE). mutmut keeps its results in
mutants/: a second run re-tests only the core mutants not killed yet (a new test may kill them);
--all re-tests every one (after changing a core module or its tests' selection)."""
from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.mutation import selection, sql_mutate  # noqa: E402

REPORT = ROOT / "test-artifacts" / "mutation" / "report.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.md"

DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
_LINE = re.compile(r"^\s*(\S+): (.+)$")


def _mutmut(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, text=True,
                          capture_output=True, check=check)


def results(patterns: list[str]) -> dict[str, str]:
    """Mutant name -> status, for the mutants the patterns name."""
    import fnmatch

    out: dict[str, str] = {}
    if not (ROOT / "mutants").is_dir():  # never run here
        return out
    for line in _mutmut("results", "--all", "true").stdout.splitlines():
        match = _LINE.match(line)
        if match and any(fnmatch.fnmatch(match.group(1), p) for p in patterns):
            out[match.group(1)] = match.group(2).strip()
    return out


def to_test(patterns: list[str], statuses: dict[str, str]) -> list[str]:
    """What mutmut should run: every mutant the patterns name the first time (mutmut re-tests
    whatever it is given by name or glob), afterwards only the ones neither killed nor explained
    in equivalent.md."""
    if not statuses:
        return list(patterns)
    explained = equivalent()
    return sorted(name for name, status in statuses.items() if status not in DETECTED and name not in explained)


def equivalent() -> dict[str, str]:
    """Mutant name -> why it is equivalent, from the bullet lines `- name: reason`."""
    if not EQUIVALENT.exists():
        return {}
    found = re.findall(r"^- `([^`]+)`: (.+)$", EQUIVALENT.read_text(), flags=re.M)
    return dict(found)


def write_report(statuses: dict[str, str], seconds: float | None) -> str:
    reasons = equivalent()
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        by_module[selection.module_of(name)][status] += 1
    unchecked = sorted(n for n, s in statuses.items() if s == "not checked")  # a run stopped early
    statuses = {n: s for n, s in statuses.items() if s != "not checked"}
    total = len(statuses)
    detected = sum(1 for s in statuses.values() if s in DETECTED)
    survivors = sorted(n for n, s in statuses.items() if s not in DETECTED)
    explained = [n for n in survivors if n in reasons]
    score = detected / total if total else 0.0
    score_eq = detected / (total - len(explained)) if total - len(explained) else 0.0
    summary = (f"{total} mutants: {detected} killed ({score:.1%}), {len(survivors)} not "
               f"({len(explained)} of them equivalent, tests/mutation/equivalent.md): "
               f"{score_eq:.1%} of the non-equivalent ones killed")
    if unchecked:
        summary += f"; {len(unchecked)} more not checked yet (the run stopped early: run it again)"
    if seconds is not None:
        summary += f"; this run took {seconds / 60:.1f} min"
    lines = ["# Mutation testing report (`make mutate`)", "", summary, "",
             "| module | mutants | killed | survived | no tests | timeout |", "|---|---|---|---|---|---|"]
    for module, counts in sorted(by_module.items()):
        lines.append(f"| {module} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
                     f"{counts['no tests']} | {counts['timeout']} |")
    lines += ["", "## Not killed", ""]
    for name in survivors:
        why = reasons.get(name)
        lines.append(f"### {name} ({statuses[name]}{'; equivalent: ' + why if why else ''})")
        diff = _mutmut("show", name, check=False).stdout.strip()
        lines += ["```diff", diff, "```", ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    return summary


def projection(measured: dict[str, tuple[int, list[float]]], children: int) -> tuple[list[tuple], float]:
    """Per module (core mutants, mutants timed, mean seconds, projected minutes of wall time at
    `children` workers) and the whole run's projected minutes; a module with nothing timed
    projects None and is left out of the total (it is not free: it is not measured)."""
    rows, total = [], 0.0
    for module, (core, durations) in sorted(measured.items()):
        mean = sum(durations) / len(durations) if durations else None
        minutes = core * mean / children / 60 if mean is not None else None
        total += minutes or 0.0
        rows.append((module, core, len(durations), mean, minutes))
    return rows, total


def measured_durations() -> dict[str, tuple[int, list[float]]]:
    """Module -> (its core mutants, the seconds mutmut recorded for those it has tested)."""
    import json

    out: dict[str, tuple[int, list[float]]] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        doc = json.loads(meta.read_text())
        durations = doc.get("durations_by_key", {})
        core = [n for n in doc.get("exit_code_by_key", {}) if selection.in_core(n)]
        if core:
            timed = [durations[n] for n in core if n in durations and doc["exit_code_by_key"][n] is not None]
            out[selection.module_of(core[0])] = (len(core), timed)
    return out


def print_estimate(children: int) -> None:
    rows, total = projection(measured_durations(), children)
    print(f"{'module':48} {'core':>5} {'timed':>5} {'s/mutant':>8} {'min':>6}")
    for module, core, timed, mean, minutes in rows:
        print(f"{module:48} {core:5d} {timed:5d} {mean if mean is not None else float('nan'):8.2f} "
              f"{minutes if minutes is not None else float('nan'):6.1f}")
    missing = sorted(set(selection.MODULE_TESTS) - {r[0] for r in rows if r[2]})
    print(f"mutants of the timed modules: {total:.1f} min at --max-children {children}, plus mutmut's first "
          f"pass and clean run; not timed: {', '.join(missing) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="write the report from mutants/ as it is")
    parser.add_argument("--all", action="store_true", help="re-test the mutants already killed too")
    parser.add_argument("--estimate", action="store_true", help="project the whole run from mutants/'s timings")
    parser.add_argument("patterns", nargs="*", default=selection.CORE)
    args = parser.parse_args(argv)
    if args.estimate:
        print_estimate(args.max_children)
        return 0
    seconds = None
    if not args.report_only:
        todo = args.patterns if args.all else to_test(args.patterns, results(args.patterns))
        if not todo:
            print("every mutant these patterns name is killed already (--all re-tests them)")
        else:
            started = time.monotonic()
            # mutmut shows its own progress line; its exit code is not a verdict, the report is
            subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children),
                            *todo], cwd=ROOT)
            seconds = time.monotonic() - started
    summary = write_report(results(args.patterns), seconds)
    print(f"\n{summary}\nreport: {REPORT.relative_to(ROOT)}")
    if args.report_only:  # the SQL's own run (sql_mutate.py, after this one) writes its report itself
        print(f"{sql_mutate.write_report()}\nreport: {sql_mutate.REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
