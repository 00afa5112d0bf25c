"""Errors injected into the storage, engine and catalog calls of a run for D (in-process
doubles over the local adapters): the run stops with a message naming the stage and what
failed, prod stays readable and consistent (exactly as before, or as after where the switch
did happen), the run log records the failure, and a rerun with working adapters completes
and converges to the reference lake."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import pytest

from glue_jobs.adapters.local.catalog import LocalCatalog
from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine
from glue_jobs.ports.catalog import CatalogError
from glue_jobs.ports.engine import QueryError
from glue_jobs.ports.storage import StorageError
from tests.faults import lakes
from workflows import runner

# -- doubles -----------------------------------------------------------------------------------


@dataclass
class Faults:
    """Hooks the doubles call before (or around) the real call; a hook raises to inject."""

    put: Callable[[str, bytes], None] = lambda key, data: None
    query: Callable[[str], None] = lambda sql: None
    write: Callable[[str, str, object], None] = lambda sql, location, storage: None
    switch: Callable[[str, Callable[[], None]], None] = lambda table, do: do()
    fired: list[str] = field(default_factory=list)


class FaultyStorage:
    def __init__(self, inner, faults: Faults):
        self.inner, self.faults, self.root = inner, faults, inner.root

    def put_bytes(self, key, data, **kw):
        self.faults.put(key, data)
        return self.inner.put_bytes(key, data, **kw)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class FaultyEngine:
    def __init__(self, inner, faults: Faults):
        self.inner, self.faults = inner, faults

    def query(self, sql):
        self.faults.query(sql)
        return self.inner.query(sql)

    def write_parquet(self, select_sql, location, **options):
        self.faults.write(select_sql, location, self.inner.storage)
        return self.inner.write_parquet(select_sql, location, **options)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class FaultyCatalog:
    def __init__(self, inner, faults: Faults):
        self.inner, self.faults = inner, faults

    def switch_partitions(self, database, name, partitions):
        self.faults.switch(name, lambda: self.inner.switch_partitions(database, name, partitions))

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _with_doubles(faults: Faults):
    original = runner.build_context

    def build(settings, run_id):
        ctx = original(settings, run_id)
        storage = FaultyStorage(ctx.storage, faults)
        catalog = FaultyCatalog(LocalCatalog(storage), faults)
        ctx.storage, ctx.catalog = storage, catalog
        ctx.engine = FaultyEngine(DuckDBEngine(storage, catalog), faults)
        return ctx

    return build


def once(faults: Faults, label: str, exc: Exception, when: Callable[..., bool]):
    """A hook raising `exc` the first time `when(*args)` holds."""

    def hook(*args):
        if not faults.fired and when(*args):
            faults.fired.append(label)
            raise exc

    return hook


# -- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    fault: str  # in words, for the matrix
    stage: str  # the stage that must fail
    message: str  # what the error must say
    prices: str  # what a reader must see after the failed run: before | after
    quarantine: str
    arm: Callable[[Faults], None]


def _put(prefix, exc):
    return lambda f: setattr(f, "put", once(f, "put", exc, lambda key, data: key.startswith(prefix)))


def _starting(stage: str):
    """The run log save that records `stage` starting."""

    def when(key: str, data: bytes) -> bool:
        if not key.startswith("runs/"):
            return False
        return (json.loads(data).get("stages", {}).get(stage) or {}).get("status") == "running"

    return when


def _query(sql_file, exc):
    return lambda f: setattr(f, "query", once(f, "query", exc, lambda sql: sql_file in sql))


def _orphaning_write(prefix):
    """A CTAS that fails after leaving files in its target location (what Athena can do)."""

    def arm(f: Faults) -> None:
        def write(sql, location, storage):
            if not f.fired and location.startswith(prefix):
                f.fired.append("write")
                storage.put_bytes(location + "orphan-from-a-failed-ctas.parquet", b"PAR1 not a whole file")
                raise QueryError("sql/wap/publish/merge.sql failed on Athena: HIVE_WRITER_CLOSE_ERROR (injected); "
                                 "its files may remain at the target location")

        f.write = write

    return arm


def _switch(table, *, after: bool, message: str):
    """The catalog update fails (before anything switched) or succeeds and then reports an error."""

    def arm(f: Faults) -> None:
        def switch(name, do):
            if f.fired or name != table:
                return do()
            f.fired.append("switch")
            if after:
                do()
            raise CatalogError(message)

        f.switch = switch

    return arm


B, A = "before", "after"
CASES = [
    Case("storage-raw-write", "storage: writing a raw body fails (3rd symbol)", "ingest",
         "injected: no space left on device", B, B,
         _put("raw/daily/ingest_date=2024-03-08/symbol=IBM/", StorageError(
             "writing raw/daily/.../symbol=IBM/body.csv failed: injected: no space left on device"))),
    Case("storage-run-log-write", "storage: the run log save recording publish's start fails", "publish",
         "injected: 503 Service Unavailable", B, B,
         lambda f: setattr(f, "put", once(f, "put", StorageError(
             "writing runs/<run>.json failed: injected: 503 Service Unavailable"), _starting("publish")))),
    Case("storage-quarantine-write", "storage: writing the temporary quarantine fails", "audit",
         "injected: throttled", B, B,
         _put("tmp/tmp_daily_prices_quarantine/", StorageError(
             "writing tmp/tmp_daily_prices_quarantine/part-00000.parquet failed: SlowDown: injected: throttled"))),
    Case("storage-catalog-write", "catalog: the daily_prices switch is not written (data already written)",
         "publish", "injected: connection reset", B, B,
         _put("catalog/stocks/daily_prices.json", StorageError(
             "writing catalog/stocks/daily_prices.json failed: injected: connection reset"))),
    Case("engine-cancelled-count", "engine: write_temp's count query is cancelled", "write_temp",
         "was cancelled", B, B,
         _query("wap/write_temp/read_counts.sql", QueryError(
             "sql/wap/write_temp/read_counts.sql was cancelled (injected: the workgroup's query was stopped)"))),
    Case("engine-timeout-audit", "engine: the audit's duplicate-key query times out", "audit",
         "timed out", B, B,
         _query("wap/audit/duplicate_keys.sql", QueryError(
             "sql/wap/audit/duplicate_keys.sql timed out after 600 s (injected)"))),
    Case("engine-failed-ctas", "engine: the publish merge fails leaving orphan files at its fresh location",
         # publish writes a merged segment under tmp/publish/, then carries it into the version
         "publish", "HIVE_WRITER_CLOSE_ERROR", B, B, _orphaning_write("tmp/publish/warehouse/daily_prices/")),
    Case("catalog-fails", "catalog: the partition switch fails (nothing switched)", "publish",
         "InternalServiceException", B, B,
         _switch("daily_prices", after=False, message=(
             "stocks.daily_prices: switching 1 partition(s) failed: trade_year=2024: InternalServiceException "
             "(injected)"))),
    Case("catalog-succeeds-but-errors", "catalog: the switch succeeds but reports an error", "publish",
         "ReadTimeout", A, B,
         _switch("daily_prices", after=True, message=(
             "stocks.daily_prices: switching 1 partition(s) failed: ReadTimeout (injected, after the update "
             "was applied)"))),
    Case("catalog-ledger-fails", "catalog: the ledger's partition switch fails", "after_publish",
         "EntityNotFound", A, A,
         _switch("pipeline_runs", after=False, message=(
             "stocks.pipeline_runs: switching 1 partition(s) failed: EntityNotFound (injected)"))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_injected_error_stops_the_run_clearly_and_a_rerun_converges(case, fault_lakes, tmp_path, monkeypatch):
    lake = fault_lakes.copy_base(tmp_path / "lake")
    faults = Faults()
    case.arm(faults)
    with monkeypatch.context() as patched:
        patched.setattr(runner, "build_context", _with_doubles(faults))
        code, _, err = lakes.run_in_process(lakes.run_argv(lake))
    assert faults.fired, f"the fault never fired; the run said:\n{err[-2000:]}"
    failed_id = lakes.run_id_from(err)

    seen = lakes.read_prod(lake)
    lakes.views_readable(lake)
    prices = lakes.classify(seen.prices, fault_lakes.before.prices, fault_lakes.after.prices)
    quarantine = lakes.classify(seen.quarantine, fault_lakes.before.quarantine, fault_lakes.after.quarantine)
    doc = lakes.run_log(lake, failed_id)
    stage = doc["stages"].get(case.stage, {})

    code2, _, err2 = lakes.run_in_process(lakes.run_argv(lake))
    final = lakes.read_prod(lake) if code2 == 0 else None
    converged = (final is not None and final.prices.business == fault_lakes.after.prices.business
                 and final.quarantine.distinct == fault_lakes.after.quarantine.distinct)
    last_line = [line for line in err.splitlines() if line.startswith("tickerlake:")][-1:]
    lakes.record_matrix_row("error", {
        "order": CASES.index(case), "fault": case.fault, "point": case.id, "stage": case.stage,
        "message": (last_line[0] if last_line else "")[:160],
        "daily_prices seen": prices, "quarantine seen": quarantine,
        "run log": f"{doc['status']}; {case.stage}: {stage.get('status')} ({stage.get('error_type')})",
        "rerun converged": "yes" if converged else f"NO (exit {code2})",
    })

    if case.id == "catalog-ledger-fails":
        # prices published stay published: the ledger failing is a warning recorded in the stage's
        # result; the runner's own ledger record at the end (the fault fires once) then succeeds
        assert code == 0, err[-2000:]
        assert "Traceback" not in err
        hooks = doc["stages"]["after_publish"]["details"]["hooks"]
        assert case.message in hooks["glue_jobs.lake.ledger.hook"]["ledger_error"]
        assert doc["status"] == "succeeded" and (prices, quarantine) == ("after", "after")
        assert code2 == 0, err2[-3000:]
        return
    assert code == 1
    assert f"{case.stage} failed" in err and case.message in err, err[-2000:]
    assert (prices, quarantine) == (case.prices, case.quarantine)
    assert doc["status"] == "failed" and stage.get("status") == "failed" and case.message in stage.get("error", "")
    assert lakes.lock_holder(lake) is None, "a failed run releases the lock"
    assert code2 == 0, err2[-3000:]
    assert final.prices.business == fault_lakes.after.prices.business  # no row lost, none twice
    assert final.quarantine.distinct == fault_lakes.after.quarantine.distinct
    assert lakes.run_log(lake, lakes.run_id_from(err2))["totals"]["reconciled"] is True
