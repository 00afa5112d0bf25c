"""`make mutate`: run mutmut over the core modules (tests/mutation/selection.py, pyproject's
[tool.mutmut]) and write a report of what it found: test-artifacts/mutation/report.md (every
surviving mutant with its diff, the ones tests/mutation/equivalent.md explains marked as such)
and a printed summary; --report-only also rewrites the SQL's report (tests/mutation/sql_mutate.py,
test-artifacts/mutation/report-sql.md), which `make mutate` runs after this.

    python tests/mutation/mutate.py [--max-children 2] [--all] [PATTERN ...]
    python tests/mutation/mutate.py --estimate [--max-children 2]
    python tests/mutation/mutate.py --fingerprint-equivalents
    python tests/mutation/mutate.py --save-kill-hints

A run first generates the mutants (tests/mutation/mutmut_mutants.py) and reads the diffs of the
ones equivalent.md lists: an entry whose diff has the fingerprint it was listed with is not run
(counted as equivalent), one whose diff changed is run and reported for a re-check
(tests/mutation/equivalents.py); then it passes mutmut the names to run. mutmut orders each
mutant's tests kill-first (tests/mutation/kills.py, pytest_plugin.py).

--estimate runs nothing: from the seconds mutmut recorded for each mutant it tested (mutants/),
it projects each module's whole core set and the whole run (measured at whatever load the
machine had then, and under the test order of the run that recorded them: say both with the
figure), leaving out the fingerprinted equivalents a fresh run skips.
--fingerprint-equivalents fills in equivalent.md's missing fingerprints from today's diffs.
--save-kill-hints rewrites tests/mutation/kill-hints.json from the last run's kills (mutants/ and
the SQL's results): which test to run first for each mutant in the next fresh run.

PATTERNs are mutmut's mutant-name globs (default: selection.CORE). mutmut keeps its results in
mutants/: a second run re-tests only the core mutants not killed yet (a new test may kill them);
--all re-tests every one (after changing a core module or its tests' selection)."""
from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.mutation import equivalents, kill_hints, selection, sql_mutate  # noqa: E402

REPORT = ROOT / "test-artifacts" / "mutation" / "report.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.md"
HELPER = ROOT / "tests" / "mutation" / "mutmut_mutants.py"
RUN = ROOT / "tests" / "mutation" / "mutmut_run.py"  # mutmut's run, less a clean run its first pass proved

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


def to_test(statuses: dict[str, str], skip: frozenset[str] | set[str], everything: bool = False) -> list[str]:
    """The names mutmut should run (mutants/ generated, so each is known by name): every one not
    killed yet (all of them with `everything`), less the listed equivalents whose diff is the one
    they were listed with (equivalents.judge)."""
    return sorted(n for n, s in statuses.items() if n not in skip and (everything or s not in DETECTED))


def listed() -> dict[str, equivalents.Entry]:
    """equivalent.md's entries (the Python ones and the SQL ones: each run looks up its own names)."""
    return equivalents.parse(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}


def equivalent() -> dict[str, str]:
    """Mutant name -> why it is equivalent."""
    return {name: entry.reason for name, entry in listed().items()}


def generate(children: int) -> None:
    """mutmut's mutants into mutants/, nothing run (a no-op for files unchanged since)."""
    # mutmut prints every file it copies; the helper's one-line summary is on stderr
    subprocess.run([sys.executable, str(HELPER), "generate", "--max-children", str(children)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def diffs(names: list[str]) -> dict[str, str]:
    """Each named mutant's diff, from mutants/ (one process for all of them)."""
    if not names:
        return {}
    out = subprocess.run([sys.executable, str(HELPER), "diffs"], cwd=ROOT, input="\n".join(names), text=True,
                         capture_output=True, check=True).stdout
    return json.loads(out)


def verdict(statuses: dict[str, str]) -> equivalents.Verdict:
    """Which listed mutants a run may skip, from their diffs in mutants/ today."""
    names = [name for name in listed() if name in statuses]
    return equivalents.judge(listed(), {n: equivalents.fingerprint(d) for n, d in diffs(names).items()})


def write_report(statuses: dict[str, str], seconds: float | None, judged: equivalents.Verdict | None = None) -> str:
    reasons = equivalent()
    judged = judged or verdict(statuses)
    skipped = {n for n in judged.skip if n in statuses and statuses[n] not in DETECTED}
    statuses = {n: ("skipped" if n in skipped else s) for n, s in statuses.items()}
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        by_module[selection.module_of(name)][status] += 1
    unchecked = sorted(n for n, s in statuses.items() if s == "not checked")  # a run stopped early
    statuses = {n: s for n, s in statuses.items() if s != "not checked"}
    total = len(statuses)
    detected = sum(1 for s in statuses.values() if s in DETECTED)
    survivors = sorted(n for n, s in statuses.items() if s not in DETECTED)
    explained = [n for n in survivors if n in reasons and n not in judged.changed]
    recheck = [n for n in survivors if n in judged.changed]
    score = detected / total if total else 0.0
    score_eq = detected / (total - len(explained)) if total - len(explained) else 0.0
    summary = (f"{total} mutants: {detected} killed ({score:.1%}), {len(survivors)} not "
               f"({len(explained)} of them equivalent, tests/mutation/equivalent.md, {len(skipped)} of those "
               f"skipped as listed with the same diff): {score_eq:.1%} of the non-equivalent ones killed")
    if recheck:
        summary += f"; {len(recheck)} listed, but their diff changed: re-check them"
    if unchecked:
        summary += f"; {len(unchecked)} more not checked yet (the run stopped early: run it again)"
    if seconds is not None:
        summary += f"; this run took {seconds / 60:.1f} min"
    lines = ["# Mutation testing report (`make mutate`)", "", summary, "",
             "| module | mutants | killed | survived | skipped equivalent | no tests | timeout |",
             "|---|---|---|---|---|---|---|"]
    for module, counts in sorted(by_module.items()):
        lines.append(f"| {module} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
                     f"{counts['skipped']} | {counts['no tests']} | {counts['timeout']} |")
    lines += ["", "## Not killed", ""]
    diff_of = diffs(survivors)
    for name in survivors:
        if name in recheck:
            note = "; listed, but its diff changed: re-check (equivalent.md's reason was: " + reasons[name] + ")"
        elif name in reasons:
            note = "; equivalent: " + reasons[name]
        else:
            note = ""
        lines.append(f"### {name} ({statuses[name]}{note})")
        lines += ["```diff", diff_of.get(name, "(no diff: not a mutant of the code as it is)").strip(), "```", ""]
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


def measured_durations(skipped: set[str] | frozenset[str] = frozenset(),
                       mutants: Path | None = None) -> dict[str, tuple[int, list[float]]]:
    """Module -> (its core mutants a fresh run tests, the seconds mutmut recorded for those it has
    tested); the `skipped` names (equivalents listed with a fingerprint) are in neither."""
    out: dict[str, tuple[int, list[float]]] = {}
    for meta in sorted((mutants or ROOT / "mutants").rglob("*.py.meta")):
        doc = json.loads(meta.read_text())
        durations = doc.get("durations_by_key", {})
        core = [n for n in doc.get("exit_code_by_key", {}) if selection.in_core(n) and n not in skipped]
        if core:
            timed = [durations[n] for n in core if n in durations and doc["exit_code_by_key"][n] is not None]
            out[selection.module_of(core[0])] = (len(core), timed)
    return out


def print_estimate(children: int, mutants: Path | None = None) -> None:
    # the diffs are not read here (no generation): a listed fingerprint is taken to still match
    skipped = {name for name, entry in listed().items() if entry.fingerprint}
    rows, total = projection(measured_durations(skipped, mutants), children)
    print(f"{'module':48} {'core':>5} {'timed':>5} {'s/mutant':>8} {'min':>6}")
    for module, core, timed, mean, minutes in rows:
        print(f"{module:48} {core:5d} {timed:5d} {mean if mean is not None else float('nan'):8.2f} "
              f"{minutes if minutes is not None else float('nan'):6.1f}")
    missing = sorted(set(selection.MODULE_TESTS) - {r[0] for r in rows if r[2]})
    print(f"mutants of the timed modules: {total:.1f} min at --max-children {children}, plus mutmut's first "
          f"pass (or its clean run, when it loads an earlier command's first pass); not timed: {', '.join(missing) or 'none'}; left out: {len(skipped)} equivalents "
          f"listed with a fingerprint (a fresh run skips them while their diff is the same)")


def fingerprint_equivalents(children: int) -> str:
    """Fill in the fingerprint of every equivalent.md entry that lacks one, from the mutants'
    diffs as they are now (Python: mutants/ generated first; SQL: sql_mutate); what it did."""
    text = EQUIVALENT.read_text()
    bare = [name for name, entry in equivalents.parse(text).items() if entry.fingerprint is None]
    python = [n for n in bare if ":" not in n]  # SQL ids are file:operator:hash
    if python:
        generate(children)
    now = {n: equivalents.fingerprint(d) for n, d in diffs(python).items()}
    now.update(sql_mutate.fingerprints([n for n in bare if ":" in n]))
    text, filled = equivalents.fill(text, now)
    EQUIVALENT.write_text(text)
    gone = sorted(set(bare) - set(filled))
    return (f"{len(filled)} of {len(bare)} entries without a fingerprint filled in"
            + (f"; not a mutant today (left as they are): {', '.join(gone)}" if gone else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="write the report from mutants/ as it is")
    parser.add_argument("--all", action="store_true", help="re-test the mutants already killed too")
    parser.add_argument("--estimate", action="store_true", help="project the whole run from mutants/'s timings")
    parser.add_argument("--mutants-dir", type=Path, help="--estimate from another run's mutants/ (a saved copy)")
    parser.add_argument("--fingerprint-equivalents", action="store_true",
                        help="fill in equivalent.md's missing fingerprints from the mutants' diffs today")
    parser.add_argument("--save-kill-hints", action="store_true",
                        help="after a whole run: keep which test killed each mutant (tests/mutation/kill_hints.py)")
    parser.add_argument("patterns", nargs="*", default=selection.CORE)
    args = parser.parse_args(argv)
    if args.estimate:
        print_estimate(args.max_children, args.mutants_dir)
        return 0
    if args.save_kill_hints:
        print(kill_hints.save(ROOT / "mutants" / "mutation-kills.log", sql_mutate.load_results()))
        return 0
    if args.fingerprint_equivalents:
        print(fingerprint_equivalents(args.max_children))
        return 0
    seconds, judged = None, None
    if not args.report_only:
        generate(args.max_children)
        statuses = results(args.patterns)
        judged = verdict(statuses)
        todo = to_test(statuses, judged.skip, args.all)
        print(f"{len(statuses)} mutants: {len(todo)} to run, {len(judged.skip)} skipped as listed equivalents "
              f"with the same diff, {len(judged.changed)} listed but their diff changed (run: re-check them), "
              f"{len(judged.unfingerprinted)} listed without a fingerprint (run; --fingerprint-equivalents)",
              flush=True)
        if not todo:
            print("every mutant these patterns name is killed or a listed equivalent already (--all re-tests them)")
        else:
            started = time.monotonic()
            # by name: mutmut re-tests exactly these; its own progress line shows; its exit code is
            # not a verdict, the report is
            subprocess.run([sys.executable, str(RUN), "run", "--max-children", str(args.max_children),
                            *todo], cwd=ROOT)
            seconds = time.monotonic() - started
    statuses = results(args.patterns)
    summary = write_report(statuses, seconds, judged)
    print(f"\n{summary}\nreport: {REPORT.relative_to(ROOT)}")
    if args.report_only:  # the SQL's own run (sql_mutate.py, after this one) writes its report itself
        print(f"{sql_mutate.write_report()}\nreport: {sql_mutate.REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
