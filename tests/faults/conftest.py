"""Lakes the fault tests start from, built once per test session (shared by xdist workers):

- base: one clean run as of D-1 (prod as it stands before the faulty run);
- reference: base plus one clean run as of D (prod as a run that never failed leaves it).

Each test copies base and breaks a run for D on the copy. The controller process renders
the fault matrix the tests recorded into test-artifacts/fault_matrix.md at the end."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults import lakes


@dataclass(frozen=True)
class Lakes:
    base: Path
    reference: Path
    before: lakes.ProdView  # what a reader of base sees
    after: lakes.ProdView  # what a reader of reference sees

    def copy_base(self, target: Path) -> Path:
        shutil.copytree(self.base, target)
        return target


def _build(root: Path) -> None:
    base, reference = root / "base", root / "reference"
    for lake in (base, reference):
        if lake.exists():
            shutil.rmtree(lake)
    code, _, err = lakes.run_in_process(lakes.run_argv(base, lakes.D_1))
    assert code == 0, err
    shutil.copytree(base, reference)
    code, _, err = lakes.run_in_process(lakes.run_argv(reference, lakes.D))
    assert code == 0, err
    (root / "built").write_text("ok")


@pytest.fixture(scope="session")
def fault_lakes(tmp_path_factory) -> Lakes:
    # Under xdist every worker has its own basetemp below this session's shared parent: build
    # there once. Without xdist the parent is shared by every session, so use basetemp.
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "fault-lakes"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (shared / "built").exists():
            _build(shared)
    result = Lakes(shared / "base", shared / "reference",
                   lakes.read_prod(shared / "base"), lakes.read_prod(shared / "reference"))
    # Both tables change in a run for D, or the tests could not tell before from after.
    assert result.before.prices.full != result.after.prices.full
    assert result.before.quarantine.business != result.after.quarantine.business
    return result


# -- the fault matrix --------------------------------------------------------------------------

_SECTIONS = {
    "crash": ("Crash (SIGKILL at a failpoint, run for D on a lake published as of D-1)",
              ["fault", "stage", "daily_prices seen", "quarantine seen", "reader error", "lock taken over",
               "crashed run closed as", "rerun converged"]),
    "error": ("Injected errors (in-process doubles over the local adapters)",
              ["fault", "stage", "message", "daily_prices seen", "quarantine seen", "run log", "rerun converged"]),
    "concurrency": ("Concurrency", ["fault", "what happened"]),
    "secrets": ("Secrets", ["fault", "what happened"]),
}


def pytest_configure(config):
    config._fault_matrix_started = time.time()


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller renders
        return
    folder = lakes.ARTIFACTS / "fault_matrix.d"
    if not folder.is_dir():
        return
    started = getattr(session.config, "_fault_matrix_started", 0)
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rows = [r for r in rows if r.get("written_at", 0) >= started]
    if not rows:
        return
    lines = ["# Fault matrix (as measured by tests/faults)", ""]
    for section, (title, columns) in _SECTIONS.items():
        mine = sorted((r for r in rows if r["section"] == section), key=lambda r: r.get("order", 0))
        if not mine:
            continue
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for r in mine:
            lines.append("| " + " | ".join(str(r.get(c, "")).replace("|", "/").replace("\n", " ") for c in columns) + " |")
        lines.append("")
    (lakes.ARTIFACTS / "fault_matrix.md").write_text("\n".join(lines))
