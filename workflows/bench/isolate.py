"""Each measured phase runs in a fresh child process, so its peak memory is its own (the
kernel's high-water mark of the child, read with wait4) and no phase warms another's caches
inside Python.

    result = run_phase("backfill", {"lake": ...}, workdir)   # result["peak_rss"] in bytes

The child is `python -m workflows.bench.isolate PHASE PARAMS.json RESULT.json`; its output
goes to <workdir>/logs/<label>.log, which the error names when a phase fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class PhaseFailed(RuntimeError):
    """A benchmark phase's child process failed; the message names its log."""


def _peak_rss_bytes(rusage) -> int:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return int(rusage.ru_maxrss) * (1 if sys.platform == "darwin" else 1024)


def run_phase(phase: str, params: dict[str, Any], workdir: Path, label: str | None = None) -> dict[str, Any]:
    """Run one phase in a child process; its result dict plus wall_seconds and peak_rss."""
    label = label or phase
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    params_path = logs / f"{label}.params.json"
    result_path = logs / f"{label}.result.json"
    log_path = logs / f"{label}.log"
    params_path.write_text(json.dumps(params, default=str))
    result_path.unlink(missing_ok=True)
    started = time.monotonic()
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "workflows.bench.isolate", phase, str(params_path), str(result_path)],
            stdout=log, stderr=subprocess.STDOUT, cwd=str(_repo_root()),
        )
        try:
            _, status, rusage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if child.returncode != 0 or not result_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise PhaseFailed(f"benchmark phase {label} failed (exit {child.returncode}); see {log_path}:\n  "
                          + "\n  ".join(tail))
    result = json.loads(result_path.read_text())
    result.update(wall_seconds=round(wall, 3), peak_rss=_peak_rss_bytes(rusage))
    return result


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _child(phase: str, params_path: str, result_path: str) -> int:
    from workflows.bench import phases

    params = json.loads(Path(params_path).read_text())
    result = phases.PHASES[phase](**params)
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
