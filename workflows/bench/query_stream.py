"""Peak memory of `tickerlake query --max-rows N` against reading the whole result first (what
the command did before it streamed). Each way runs in its own process; its peak RSS is the
child's ru_maxrss.

    python -m workflows.bench.query_stream [--lake DIR] [--copies 20000] [--max-rows 200]

Without --lake it builds a small lake (10 symbols x 100 sessions) under /tmp; the query
multiplies its 1,000 published rows by --copies (20,000: 20 million rows)."""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WHOLE = """
import sys
from glue_jobs.runtime import build_local
from workflows.cli import output
_, _, engine, _ = build_local(sys.argv[1])
table = engine.query(sys.argv[2])
print(output.render(table, "table", max_rows=int(sys.argv[3]))[-200:])
"""


def _child(argv: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, last output line) of one process."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024, (done.stdout.strip().splitlines() or [""])[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake")
    parser.add_argument("--copies", type=int, default=20_000)
    parser.add_argument("--max-rows", type=int, default=200)
    args = parser.parse_args(argv)
    lake = args.lake or str(Path(tempfile.mkdtemp(prefix="tickerlake-query-bench-")) / "lake")
    if not args.lake:
        subprocess.run([sys.executable, "-m", "workflows.cli.main", "run", "--lake", lake, "--date", "2026-11-20",
                        "--no-dashboard"], check=True, capture_output=True)
    sql = (f"select p.*, t.n from stocks.daily_prices p cross join unnest(sequence(1, {args.copies})) as t(n)")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the small one first
    streamed = _child([sys.executable, "-m", "workflows.cli.main", "query", "--lake", lake,
                       "--max-rows", str(args.max_rows), sql])
    whole = _child([sys.executable, "-c", WHOLE, lake, sql, str(args.max_rows)])
    print(f"query: {sql}")
    print(f"streamed (tickerlake query --max-rows {args.max_rows}): {streamed[0]:.1f} s, peak {streamed[1]:.0f} MB "
          f"-> {streamed[2]}")
    print(f"whole result first (engine.query, then render):   {whole[0]:.1f} s, peak {whole[1]:.0f} MB "
          f"-> {whole[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
