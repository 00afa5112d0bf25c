"""Mutation testing of the SQL behind write_temp and publish (mutmut mutates only Python).

    python tests/mutation/sql_mutate.py [--max-children 2] [--all] [--operators a,b] [FILE ...]
    python tests/mutation/sql_mutate.py --list [FILE ...]      # the mutants, nothing run
    python tests/mutation/sql_mutate.py --survivors [FILE ...] # after new tests: the ones alive
    python tests/mutation/sql_mutate.py --report-only

Each mutant (tests/mutation/sql_mutants.py: one small change to one file) is written into a
scratch copy of the checkout (one copy per child, made once, under the system's temporary
directory) by a child that a worker in that copy forks (tests/mutation/sql_worker.py: pytest and
the project imported once, not per mutant), the file's tests run there (selection.sql_tests, of
them the ones that read the file in a clean run, kill-first: the tests that killed this file's
earlier mutants, then its folder's, then fastest first: tests/mutation/sql_pytest_plugin.py;
`-x`), and the file is restored. A mutant is killed when a test fails, a timeout when the
tests run past three times their clean time plus a minute, an error when pytest itself cannot
run them (never a kill). FILEs are names under sql/ (default: every file of selection.SQL_TESTS).

Results go to test-artifacts/mutation/sql-results.json after every mutant: a second run tests
only the mutants neither killed nor listed in tests/mutation/equivalent.md (--all: every one).
The report is test-artifacts/mutation/report-sql.md, beside mutmut's report.md."""
from __future__ import annotations

import argparse
import collections
import difflib
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.mutation import equivalents, kill_hints, selection  # noqa: E402
from tests.mutation.sql_mutants import OPERATORS, Mutant, mutants  # noqa: E402
from tests.mutation.sql_worker import Worker  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts" / "mutation"
RESULTS = ARTIFACTS / "sql-results.json"
REPORT = ARTIFACTS / "report-sql.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.md"
DETECTED = {"killed", "timeout"}
_TOP_LEVEL_SKIPPED = {".git", ".venv", "mutants", "test-artifacts", "lake", "build", "dist", ".pytest_cache",
                      ".ruff_cache", ".cache", ".tmp"}


def _not_copied(folder: str, names: list[str]) -> set[str]:
    """What a scratch copy leaves out: caches everywhere, the checkout's own lake, venv and
    results at the top only (glue_jobs/lake/ is code)."""
    top = Path(folder).resolve() == ROOT
    return {n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (top and n in _TOP_LEVEL_SKIPPED)
            or (top and n.startswith(".venv"))}


def sql_files() -> list[str]:
    return sorted(f"{folder}{p.name}" for folder in selection.SQL_TESTS for p in (ROOT / "sql" / folder).glob("*.sql"))


def listed() -> dict[str, equivalents.Entry]:
    """equivalent.md's entries (tests/mutation/equivalents.py; the SQL ids among them are ours)."""
    return equivalents.parse(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}


def judge(found: list[Mutant], originals: dict[str, str], entries: dict[str, equivalents.Entry]) -> equivalents.Verdict:
    """Which listed mutants a run skips (diff unchanged) and which it re-checks (diff changed)."""
    now = {m.id: equivalents.fingerprint(diff(originals[m.file], m)) for m in found if m.id in entries}
    return equivalents.judge(entries, now)


def fingerprints(ids: list[str]) -> dict[str, str]:
    """The fingerprint of each named SQL mutant of the files as they are (an id that is no
    mutant today is left out)."""
    files = sorted({i.split(":", 1)[0] for i in ids} & set(sql_files()))
    originals = {name: (ROOT / "sql" / name).read_text() for name in files}
    wanted = set(ids)
    return {m.id: equivalents.fingerprint(diff(originals[m.file], m))
            for name in files for m in mutants(name, originals[name]) if m.id in wanted}


def status_of(returncode: int | None) -> str:
    """pytest's exit code -> the mutant's status (None: stopped for its time; 5: no test of the
    selection reads the mutated file, sql_pytest_plugin)."""
    if returncode is None:
        return "timeout"
    return {0: "survived", 1: "killed", 5: "no tests"}.get(returncode, "error")


def to_test(found: list[Mutant], results: dict[str, dict], skip: frozenset[str] | set[str], everything: bool,
            survivors_only: bool = False) -> list[Mutant]:
    """What a run tests: every mutant (everything), else those not killed yet, of them only the
    ones a run already let live with survivors_only (after adding tests); never the listed
    equivalents whose diff is unchanged (`skip`, judge)."""
    return [m for m in found if m.id not in skip and (everything or (
        results.get(m.id, {}).get("status") not in DETECTED and (not survivors_only or m.id in results)))]


def diff(original: str, mutant: Mutant) -> str:
    return "".join(difflib.unified_diff(original.splitlines(keepends=True), mutant.text.splitlines(keepends=True),
                                        f"sql/{mutant.file}", f"sql/{mutant.file} ({mutant.id})", n=1))


def report(found: list[Mutant], originals: dict[str, str], results: dict[str, dict],
           entries: dict[str, equivalents.Entry]) -> tuple[str, str]:
    """The report's markdown and its one-line summary, for the mutants of the files as they are
    now (a result whose mutant no longer exists is left out). A listed equivalent whose diff is
    unchanged counts as equivalent whether it ran or was skipped; one whose diff changed does not."""
    judged = judge(found, originals, entries)
    explained = {name: e.reason for name, e in entries.items() if name not in judged.changed}
    by_file: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    survivors: list[Mutant] = []
    for m in found:
        status = results.get(m.id, {}).get("status", "not run")
        if m.id in judged.skip and status not in DETECTED:
            status = "skipped"
        counts = by_file[m.file]
        counts["mutants"] += 1
        if status in DETECTED:
            counts["killed"] += 1
        elif status == "not run":
            counts["not run"] += 1
        else:
            survivors.append(m)
            counts["equivalent" if m.id in explained else "left"] += 1
            if status == "error":
                counts["error"] += 1
    total = sum(c["mutants"] for c in by_file.values())
    run = total - sum(c["not run"] for c in by_file.values())
    killed = sum(c["killed"] for c in by_file.values())
    equiv = sum(c["equivalent"] for c in by_file.values())
    score = killed / run if run else 0.0
    score_eq = killed / (run - equiv) if run - equiv else 0.0
    summary = (f"SQL: {total} mutants, {run} run: {killed} killed ({score:.1%}), {equiv} equivalent, "
               f"{run - killed - equiv} left: {score_eq:.1%} of the non-equivalent ones killed")
    lines = ["# Mutation testing report, SQL (`make mutate`, tests/mutation/sql_mutate.py)", "", summary, "",
             "| file | mutants | killed | equivalent | left | of which errors | not run |", "|---|---|---|---|---|---|---|"]
    for name, c in sorted(by_file.items()):
        lines.append(f"| sql/{name} | {c['mutants']} | {c['killed']} | {c['equivalent']} | {c['left']} | "
                     f"{c['error']} | {c['not run']} |")
    lines += ["", "## Not killed", ""]
    for m in survivors:
        why = explained.get(m.id)
        status = "skipped" if m.id in judged.skip else results[m.id]["status"]
        if m.id in judged.changed:
            why_text = f"; listed, but its diff changed: re-check (equivalent.md's reason was: {entries[m.id].reason})"
        else:
            why_text = "; equivalent: " + why if why else ""
        lines.append(f"### {m.id} (line {m.line}, {status}{why_text})")
        lines += ["", m.description, "", "```diff", diff(originals[m.file], m).rstrip("\n"), "```", ""]
    return "\n".join(lines) + "\n", summary


# --- I/O: the copies, the runs, the results file ---------------------------------------------

def load_results() -> dict[str, dict]:
    try:
        return json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}


def save_results(results: dict[str, dict]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    partial = RESULTS.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=1, sort_keys=True))
    partial.replace(RESULTS)


def killers_for(mutant: str, results: dict[str, dict], hinted: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The tests that killed this very mutant in an earlier whole run (`hinted`: kill_hints.py),
    and those that killed this file's mutants and its folder's other files' (one entry per kill,
    from the results so far, this run's and a resumed run's, and from the hints), for kill-first
    ordering."""
    file = mutant.split(":", 1)[0]  # ids are file:operator:hash
    folder = file.rsplit("/", 1)[0] + "/"
    hinted = hinted or {}
    out: dict[str, list[str]] = {"mutant": [hinted[mutant]] if mutant in hinted else [], "file": [], "folder": []}
    earlier = [(r.get("file", ""), r.get("killer")) for r in results.values() if r.get("status") == "killed"]
    earlier += [(other.split(":", 1)[0], killer) for other, killer in hinted.items()]
    for other, killer in earlier:
        if not killer:
            continue
        if other == file:
            out["file"].append(killer)
        elif other.startswith(folder):
            out["folder"].append(killer)
    return out


def _memory() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(todo: list[Mutant], children: int, results: dict[str, dict]) -> float:
    """Test every mutant of `todo`, recording each result as it comes; the seconds it took."""
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="tickerlake-sqlmut-"))
    every_test = sorted({t for m in todo for t in selection.sql_tests(m.file)})
    hinted = kill_hints.sql_kills(kill_hints.load())
    workers: list[Worker] = []
    try:
        copies: queue.Queue[Worker] = queue.Queue()
        for k in range(children):
            copy = scratch / f"copy{k}"
            shutil.copytree(ROOT, copy, ignore=_not_copied, symlinks=True)
            workers.append(Worker(copy, every_test))  # imports and collects once; forks per mutant
            copies.put(workers[-1])
        budgets: dict[tuple[str, ...], float] = {}
        orders: dict[tuple[str, ...], Path] = {}
        for tests in sorted({selection.sql_tests(m.file) for m in todo}):
            orders[tests] = scratch / f"seconds-{len(orders)}.json"
            _progress(f"clean run of {len(tests)} test paths (their times order each mutant's run)...")
            clean_started = time.monotonic()
            code, _ = workers[0].run(tests, _memory() / f"{scratch.name}-clean",
                                     {"TICKERLAKE_SQLMUT_RECORD": str(orders[tests])}, None)
            if code != 0:
                raise SystemExit(f"the tests fail without any mutant (pytest exit {code}): {' '.join(tests)}")
            budgets[tests] = 3 * (time.monotonic() - clean_started) + 60
        lock = threading.Lock()
        tally = collections.Counter()

        def one(mutant: Mutant) -> None:
            worker = copies.get()
            tests = selection.sql_tests(mutant.file)
            with lock:
                killers = killers_for(mutant.id, results, hinted)
            t0 = time.monotonic()
            try:
                # named after this run's scratch directory: another sql_mutate on the machine has
                # its own copy0, and pytest empties its --basetemp when it starts
                code, killer = worker.run(tests, _memory() / f"{scratch.name}-{worker.copy.name}",
                                          {"TICKERLAKE_SQLMUT_ORDER": str(orders[tests]),
                                           "TICKERLAKE_SQLMUT_FILE": mutant.file,
                                           "TICKERLAKE_SQLMUT_KILLS": json.dumps(killers)},
                                          budgets[tests], mutant.file, mutant.text)
            finally:
                copies.put(worker)
            status = status_of(code)
            with lock:
                results[mutant.id] = {"status": status, "seconds": round(time.monotonic() - t0, 2),
                                      "file": mutant.file, "line": mutant.line, "description": mutant.description}
                if status == "killed" and killer:
                    results[mutant.id]["killer"] = killer
                save_results(results)
                tally[status] += 1
                done = sum(tally.values())
                _progress(f"[{done}/{len(todo)}] {status:8} {mutant.id} (line {mutant.line}) | killed {tally['killed']}"
                          f", survived {tally['survived']}, timeout {tally['timeout']}, error {tally['error']}")

        with ThreadPoolExecutor(max_workers=children) as pool:
            for future in [pool.submit(one, m) for m in todo]:
                future.result()
    finally:
        for worker in workers:
            worker.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return time.monotonic() - started


def write_report(files: list[str] | None = None) -> str:
    files = files or sql_files()
    originals = {name: (ROOT / "sql" / name).read_text() for name in files}
    found = [m for name in files for m in mutants(name, originals[name])]
    text, summary = report(found, originals, load_results(), listed())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--all", action="store_true", help="re-test the mutants already killed too")
    parser.add_argument("--report-only", action="store_true", help="write the report from the results file as it is")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--survivors", action="store_true", help="re-test only the mutants a run let live")
    parser.add_argument("--operators", help=f"comma-separated, of: {', '.join(OPERATORS)}")
    parser.add_argument("files", nargs="*", help="names under sql/ (default: write_temp's and publish's)")
    args = parser.parse_args(argv)
    files = args.files or sql_files()
    unknown = [f for f in files if not selection.sql_tests(f) or not (ROOT / "sql" / f).is_file()]
    if unknown:
        parser.error(f"not a SQL file with tests in selection.SQL_TESTS: {', '.join(unknown)}")
    operators = tuple(args.operators.split(",")) if args.operators else None
    found = [m for name in files for m in mutants(name, (ROOT / "sql" / name).read_text(), operators)]
    if args.list:
        for m in found:
            print(f"{m.id}\tline {m.line}\t{m.description}")
        print(f"{len(found)} mutants", file=sys.stderr)
        return 0
    seconds = None
    if not args.report_only:
        results = load_results()
        originals = {name: (ROOT / "sql" / name).read_text() for name in files}
        judged = judge(found, originals, listed())
        todo = to_test(found, results, judged.skip, args.all, args.survivors)
        _progress(f"{len(found)} SQL mutants in {len(files)} files; {len(todo)} to test; {len(judged.skip)} skipped "
                  f"as listed equivalents with the same diff, {len(judged.changed)} listed but their diff changed "
                  f"(run: re-check them), {len(judged.unfingerprinted)} listed without a fingerprint (run)")
        if todo:
            seconds = run(todo, args.max_children, results)
    summary = write_report(files if args.files else None)
    if seconds is not None:
        summary += f"; this run took {seconds / 60:.1f} min"
    print(f"\n{summary}\nreport: {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
