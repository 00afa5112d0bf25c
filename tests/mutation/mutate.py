"""`make mutate`: run mutmut over the core modules (pyproject's [tool.mutmut]) and write a report
of what it found: test-artifacts/mutation/report.md (every surviving mutant with its diff, the
ones tests/mutation/equivalent.md explains marked as such) and a printed summary.

    python tests/mutation/mutate.py [--max-children 2] [PATTERN ...]

PATTERNs are mutmut's mutant-name globs (default: CORE below); mutmut keeps its results in
mutants/, so a second run only re-tests what changed."""
from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "test-artifacts" / "mutation" / "report.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.md"

# Whole modules, and of the engine only its partition pruning (the rest of duckdb_engine.py is
# I/O that the end-to-end tests cover; its translation layer is athena_sql/translate.py).
CORE = [
    "glue_jobs.audit.rules.*", "glue_jobs.audit.row_checks.*", "glue_jobs.audit.series_rules.*",
    "glue_jobs.wap.write_temp.*", "glue_jobs.wap.publish.*",
    "glue_jobs.lake.merge_plan.*", "glue_jobs.ops.rollback_plan.*",
    "ingestion.rate_limit.*", "ingestion.alphavantage.classify.*", "ingestion.alphavantage.redact.*",
    "glue_jobs.lake.lock.*",
    "glue_jobs.adapters.local.duckdb_engine.x__prune_plan__*",
    "glue_jobs.adapters.local.duckdb_engine.x__partition_filters__*",
    "glue_jobs.adapters.local.athena_sql.translate.*",
]
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
_LINE = re.compile(r"^\s*(\S+): (.+)$")


def _mutmut(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, text=True,
                          capture_output=True, check=check)


def results(patterns: list[str]) -> dict[str, str]:
    """Mutant name -> status, for the mutants the patterns name."""
    import fnmatch

    out = {}
    for line in _mutmut("results", "--all", "true").stdout.splitlines():
        match = _LINE.match(line)
        if match and any(fnmatch.fnmatch(match.group(1), p) for p in patterns):
            out[match.group(1)] = match.group(2).strip()
    return out


def equivalent() -> dict[str, str]:
    """Mutant name -> why it is equivalent, from the bullet lines `- name: reason`."""
    if not EQUIVALENT.exists():
        return {}
    found = re.findall(r"^- `([^`]+)`: (.+)$", EQUIVALENT.read_text(), flags=re.M)
    return dict(found)


def module_of(name: str) -> str:
    return name.split(".x_")[0].split(".xǁ")[0]


def write_report(statuses: dict[str, str], seconds: float | None) -> str:
    reasons = equivalent()
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        by_module[module_of(name)][status] += 1
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="write the report from mutants/ as it is")
    parser.add_argument("patterns", nargs="*", default=CORE)
    args = parser.parse_args(argv)
    seconds = None
    if not args.report_only:
        started = time.monotonic()
        # mutmut shows its own progress line; its exit code is not a verdict, the report is
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children),
                        *args.patterns], cwd=ROOT)
        seconds = time.monotonic() - started
    summary = write_report(results(args.patterns), seconds)
    print(f"\n{summary}\nreport: {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
