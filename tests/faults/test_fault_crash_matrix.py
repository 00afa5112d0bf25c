"""Kill `tickerlake run` (SIGKILL, no cleanup of any kind) at every stage boundary and in the
middle of every write, on a lake already published as of D-1, during the run for D. Then:

- a reader sees each prod table exactly as before the run or exactly as after a clean run
  (content checksums, compared with the lake before and with a reference lake), never a mix,
  and reads it and every view without error;
- the next run takes over the dead process's lock, marks the crashed run failed, and leaves
  prod equal to the reference lake (a run for D that never crashed).
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.faults import lakes


@dataclass(frozen=True)
class Crash:
    point: str
    what: str  # the fault, in words
    prices: str  # what a reader must see in daily_prices: before | after
    quarantine: str
    hit: int = 1
    match: str = ""
    either: bool = False  # where the point falls depends on how often the run log is saved

    @property
    def id(self) -> str:
        suffix = f"@{self.match.strip('/').replace('/', '.')}" if self.match else ""
        return f"{self.point}{suffix}" + (f"#{self.hit}" if self.hit > 1 else "")


B, A = "before", "after"
CASES = [
    Crash("runner.before_ingest", "lock taken, nothing done yet", B, B),
    Crash("landing.after_object", "raw landing: between two bodies", B, B, hit=2),
    Crash("landing.before_manifest", "raw landing: every body landed, no manifest", B, B),
    Crash("ingest.before_state", "manifest written, ingestion state not", B, B),
    Crash("storage.before_replace", "ingestion state half-written (temp file, no rename)", B, B,
          match="state/ingestion.json"),
    Crash("runner.after_ingest", "boundary ingest | crawl", B, B),
    Crash("runner.after_crawl", "boundary crawl | drop_temp", B, B),
    Crash("runner.after_drop_temp", "boundary drop_temp | write_temp", B, B),
    Crash("engine.before_rename", "temp table file complete under its temporary name", B, B,
          match="tmp/tmp_daily_prices/"),
    Crash("write_temp.after_data_write", "temp table files written, table not in the catalog", B, B),
    Crash("runner.after_write_temp", "boundary write_temp | audit", B, B),
    Crash("audit.after_quarantine_write", "temp quarantine chunk written", B, B),
    Crash("audit.before_verdict", "audited, verdict not written", B, B),
    Crash("runner.after_audit", "boundary audit | publish", B, B),
    Crash("engine.before_rename", "daily_prices partition file under its temporary name", B, B,
          match="warehouse/daily_prices/"),
    Crash("publish.after_data_write", "first daily_prices partition written at its fresh location", B, B,
          match="daily_prices/"),
    Crash("publish.between_partitions", "one daily_prices partition done, the next not written", B, B,
          match="daily_prices/"),
    Crash("publish.before_switch", "every daily_prices partition written, catalog not switched", B, B),
    Crash("storage.before_replace", "catalog switch of daily_prices half-written (temp file, no rename)", B, B,
          match="catalog/stocks/daily_prices.json"),
    Crash("publish.between_tables", "daily_prices switched, quarantine not yet", A, B),
    Crash("storage.before_replace", "catalog switch of the quarantine half-written", A, B,
          match="catalog/stocks/daily_prices_quarantine.json"),
    Crash("runner.after_publish", "boundary publish | after_publish", A, A),
    Crash("after_publish.before_mark", "views and hooks done, ingest run not marked published", A, A),
    Crash("ledger.after_data_write", "ledger month written, its partition not switched", A, A),
    Crash("runner.after_after_publish", "last stage done, run log not closed", A, A),
    # the 14th save is the one recording that publish finished (today): the stored log says publish
    # is running while prod is already after
    Crash("storage.before_replace", "run log half-written (temp file, no rename)", A, A,
          match="runs/", hit=14, either=True),
    Crash("runner.before_ledger", "run log closed, ledger row not written", A, A),
]


def _stage_at_crash(doc: dict) -> str:
    stages = doc.get("stages") or {}
    running = [n for n, s in stages.items() if s.get("status") == "running"]
    if running:
        return f"in {running[0]}"
    done = [n for n, s in stages.items() if s.get("status") == "succeeded"]
    if doc.get("status") != "running":
        return f"run log closed ({doc.get('status')})"
    return f"after {done[-1]}" if done else "before ingest"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_crash_shows_readers_before_or_after_and_a_rerun_converges(case, fault_lakes, tmp_path):
    lake = fault_lakes.copy_base(tmp_path / "lake")
    env = lakes.clean_env(TICKERLAKE_FAILPOINT=case.point, TICKERLAKE_FAILPOINT_ACTION="kill",
                          TICKERLAKE_FAILPOINT_HIT=str(case.hit), TICKERLAKE_FAILPOINT_MATCH=case.match)
    crashed = lakes.run_process(lakes.run_argv(lake), env=env)
    assert crashed.returncode == -9, f"the failpoint did not kill the run:\n{crashed.stderr[-3000:]}"
    assert f"failpoint {case.point}" in crashed.stderr
    crashed_id = lakes.run_id_from(crashed.stderr)

    # A reader, mid-outage: no error, each table exactly before or exactly after.
    reader_error = ""
    try:
        seen = lakes.read_prod(lake)
        lakes.views_readable(lake)
    except Exception as exc:  # recorded in the matrix, then failed below
        reader_error = f"{type(exc).__name__}: {exc}"
    row = {"order": CASES.index(case), "fault": f"kill at `{case.id}`: {case.what}", "point": case.id,
           "reader error": reader_error or "none"}
    if not reader_error:
        row["daily_prices seen"] = lakes.classify(seen.prices, fault_lakes.before.prices, fault_lakes.after.prices)
        row["quarantine seen"] = lakes.classify(seen.quarantine, fault_lakes.before.quarantine,
                                                fault_lakes.after.quarantine)
    holder = lakes.lock_holder(lake)
    row["stage"] = _stage_at_crash(lakes.run_log(lake, crashed_id))

    # The rerun: same day, same flags, in this process (the killed one's pid is dead).
    code, _, err = lakes.run_in_process(lakes.run_argv(lake))
    final = lakes.read_prod(lake) if code == 0 else None
    converged = (final is not None and final.prices.business == fault_lakes.after.prices.business
                 and final.quarantine.distinct == fault_lakes.after.quarantine.distinct)
    row["lock taken over"] = "yes" if f"took over a stale lock left by run {crashed_id}" in err else "no"
    row["crashed run closed as"] = lakes.run_log(lake, crashed_id).get("status")
    row["rerun converged"] = "yes" if converged else f"NO (exit {code})"
    lakes.record_matrix_row("crash", row)

    assert not reader_error, f"a reader failed after a crash at {case.id}: {reader_error}"
    seen_pair = (row["daily_prices seen"], row["quarantine seen"])
    if case.either:
        assert seen_pair in ((B, B), (A, A)), row
    else:
        assert seen_pair == (case.prices, case.quarantine), row
    assert holder is not None and holder["run_id"] == crashed_id, "the killed run held the lock"
    assert code == 0, f"the rerun failed:\n{err[-3000:]}"
    assert row["lock taken over"] == "yes", err[-2000:]
    rerun_log = lakes.run_log(lake, lakes.run_id_from(err))
    assert rerun_log["status"] == "succeeded" and rerun_log["totals"]["reconciled"] is True
    assert lakes.lock_holder(lake) is None, "the rerun released the lock"
    # prices: every row as the reference has it, no duplicate; the quarantine: the same rows held
    # back (an ingest run the crash left unpublished is audited again, and the quarantine keeps
    # a held-back row once per ingest run that delivered it)
    assert final.prices.business == fault_lakes.after.prices.business
    assert final.prices.rows == fault_lakes.after.prices.rows
    assert final.quarantine.distinct == fault_lakes.after.quarantine.distinct
    # no run log left saying "running" forever; a run that had not published cannot have succeeded
    assert row["crashed run closed as"] in ("failed", "succeeded")
    if case.prices == B and not case.either:
        assert row["crashed run closed as"] == "failed"
