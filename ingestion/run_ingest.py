"""The ingest stage: fetch every planned symbol within the key's limits, land what comes back,
carry what could not be fetched, and say what happened.

Per answer kind:
    data                       landed in raw; the symbol is done
    rate_limit                 back off (a minute for the per-minute throttle, a few seconds for
                               a burst), retry the same symbol, at most max_rate_limit_retries times
    html, truncated            retried up to max_transient_retries times, then carried
    server_error               the client already retried with backoff: carried; two symbols in a
                               row that got no answer at all stop the run (unreachable), all carried
    deadline, too_large        the answer was cut (what came is kept in rejected/): carried
    daily_cap                  stop cleanly: this and every later symbol carried
    bad_key, premium           stop: every later call would get the same answer; all carried
    invalid_symbol, empty_series, unexpected
                               that symbol fails alone; the run goes on
Every non-data answer is landed in the rejected zone with its reason. Only requests that
got an answer are counted against the key's quota. A wait of more than a few seconds (the
per-minute window, a back-off after a limit answer) is announced through the progress
callback and the log: what it waits for and until when.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable

from glue_jobs.lake import failpoints
from glue_jobs.ports.storage import Storage
from ingestion import source_api as kinds
from ingestion.alphavantage import constants
from ingestion.landing import Landing, SymbolRecord
from ingestion.rate_limit import QuotaSpent, RatePlanner
from ingestion.source_api import FetchResult, Source
from ingestion.state import load_state, merge_state, plan_symbols, save_state

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str, str], None]

STATUS_OK = "ok"
STATUS_PARTIAL = "partial"
STATUS_NOTHING = "nothing_fetched"
QUOTA_SPENT = "quota_spent"  # our own count says the day's calls are used (no call made)
UNREACHABLE = "unreachable"  # symbols in a row got no answer at all: the server cannot be reached
_STOPPERS = (kinds.DAILY_CAP, kinds.BAD_KEY, kinds.PREMIUM)
UNREACHABLE_AFTER = 2  # symbols in a row without any answer before the run stops trying
ANNOUNCE_WAITS_OVER_S = 3.0
LANDING_WRITERS = 4  # bodies written while the next symbol is fetched; synced once, before the manifest


@dataclass
class IngestResult:
    run_id: str
    status: str  # ok | partial | nothing_fetched
    counts: dict[str, int]
    manifest_key: str
    problems: list[str] = field(default_factory=list)
    symbols: dict[str, SymbolRecord] = field(default_factory=dict)
    carried: list[str] = field(default_factory=list)
    stop_reason: str | None = None  # daily_cap | quota_spent | bad_key | premium | unreachable


class _Run:
    def __init__(self, storage, run_id, as_of, source, planner, progress, sleep, clock, start, limits):
        self.storage, self.run_id, self.as_of, self.start = storage, run_id, as_of, start
        self.source, self.planner, self.progress = source, planner, progress
        self.sleep, self.clock = sleep, clock
        self.max_rate_limit_retries, self.max_transient_retries = limits
        self.landing = Landing(storage, run_id=run_id, as_of=as_of, source_name=source.name, writers=LANDING_WRITERS,
                               sync_at_manifest=True)
        self.records: dict[str, SymbolRecord] = {}
        self.carried: dict[str, str] = {}
        self.problems: list[str] = []
        self.stop_reason: str | None = None
        self.stop_message = ""
        self.calls = 0  # requests that got an answer (what the key's quota was charged)
        self.unanswered = 0  # requests that got none (refused, unreachable, timed out before an answer)
        self.unreachable_in_a_row = 0
        self.position = (0, 0, "")  # (n, of, symbol) being fetched, for wait announcements
        self.waiting_for = ""  # why the planner is blocked: set with a back-off

    def pace(self) -> Callable[[], None]:
        """Called by the source before each request: wait for the planner. Returns the charge the
        source calls when the request got an answer; only then is it counted against the quota."""
        while True:
            now = self.clock()
            wait = self.planner.wait_time(now)
            if wait <= 0:
                break
            if math.isinf(wait):
                raise QuotaSpent(f"{self.planner.calls_per_day} calls already made on quota day {self.planner.day}")
            if wait >= ANNOUNCE_WAITS_OVER_S:
                self.announce_wait(wait, now)
            self.sleep(wait)
        sent_at = now
        self.unanswered += 1

        def charge() -> None:
            self.unanswered -= 1
            self.planner.record(sent_at)
            self.calls += 1

        return charge

    def announce_wait(self, wait: float, now: float) -> None:
        n, of, symbol = self.position
        until = dt.datetime.fromtimestamp(now + wait, tz=dt.timezone.utc).strftime("%H:%M:%S UTC")
        why = self.waiting_for or self._planner_reason()
        line = f"waiting {wait:.0f} s for {why}, until {until}"
        log.info("%s: %s", symbol, line)
        if self.progress is not None and of:
            self.progress(n, of, symbol, line)

    def _planner_reason(self) -> str:
        per_minute = self.planner.calls_per_minute
        if per_minute is not None:
            return f"the per-minute allowance ({per_minute} calls a minute)"
        return f"the minimum spacing between calls ({self.planner.min_interval_s:g} s)"

    def carry(self, record: SymbolRecord, reason: str) -> None:
        record.status = "carried"
        record.kind = record.kind or reason
        self.carried[record.symbol] = reason

    def fetch_symbol(self, record: SymbolRecord) -> None:
        symbol = record.symbol
        rate_limited = transient = 0
        while True:
            try:
                result = self.source.fetch(symbol, as_of=self.as_of, start=self.start, pace=self.pace)
            except QuotaSpent as exc:
                self.stop(QUOTA_SPENT, f"daily quota already used ({exc})")
                self.carry(record, kinds.DAILY_CAP)
                return
            finally:
                self.waiting_for = ""
            self.landing.land(result, record)
            no_answer = result.status == 0 and not result.earlier
            self.unreachable_in_a_row = self.unreachable_in_a_row + 1 if no_answer else 0
            kind = result.kind
            message = result.classification.message
            if kind == kinds.DATA:
                record.status = "fetched"
                return
            if kind == kinds.RATE_LIMIT and rate_limited < self.max_rate_limit_retries:
                rate_limited += 1
                wait = self._rate_limit_wait(result, rate_limited)
                log.info("%s: rate limited (%s); waiting %.0f s before retrying", symbol, message, wait)
                self.planner.back_off(self.clock(), wait)
                self.waiting_for = f"Alpha Vantage's rate limit ({result.classification.detail or 'limit answer'})"
                continue
            if kind in (kinds.HTML, kinds.TRUNCATED) and transient < self.max_transient_retries:
                transient += 1
                self.planner.back_off(self.clock(), 2.0**transient)
                self.waiting_for = f"a retry after a {kind} answer"
                continue
            if kind in _STOPPERS:
                if kind == kinds.DAILY_CAP:
                    self.planner.exhaust_day(self.clock())
                self.stop(kind, f"{symbol}: {message}")
                self.carry(record, kind)
                return
            if result.classification.retryable:
                self.carry(record, kind)
                self.problems.append(
                    f"{symbol}: {kind} after {record.attempts} attempts ({message}); carried to the next run"
                )
                if self.unreachable_in_a_row >= UNREACHABLE_AFTER:
                    self.stop(UNREACHABLE, f"{self.unreachable_in_a_row} symbols in a row got no answer ({message})")
                return
            record.status = "failed"
            self.problems.append(self._failure_message(symbol, kind, message, record))
            return

    def _rate_limit_wait(self, result: FetchResult, count: int) -> float:
        if "per_minute" in result.classification.detail or result.status == 429:
            return self.planner.window_s
        return min(self.planner.window_s, max(self.planner.min_interval_s, 1.0) * 2**count)

    def _failure_message(self, symbol: str, kind: str, message: str, record: SymbolRecord) -> str:
        where = record.rejected_keys[-1] if record.rejected_keys else "the rejected zone"
        if kind == kinds.INVALID_SYMBOL:
            return f"{symbol}: not a symbol Alpha Vantage knows ({message}); fix or remove it from the symbol list"
        if kind == kinds.EMPTY_SERIES:
            return f"{symbol}: the series holds no bar; check the symbol is still listed ({where})"
        return f"{symbol}: unexpected answer ({message}); kept at {where} for inspection"

    def stop(self, reason: str, message: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_message = reason, message
            log.warning("stopping the run: %s", message)

    def stop_problem(self) -> str:
        n = len(self.carried)
        carried = f"{n} symbol{'s' if n != 1 else ''} carried to the next run"
        if self.stop_reason in (kinds.DAILY_CAP, QUOTA_SPENT):
            return (
                f"{self.stop_message}; {carried}. They are fetched first when the quota resets; "
                f"raise {constants.ENV_CALLS_PER_DAY} only if your plan allows more calls"
            )
        if self.stop_reason == UNREACHABLE:
            return (
                f"Alpha Vantage could not be reached: {self.stop_message}; {carried}. No quota was spent on "
                f"requests without an answer. Check the network and {constants.ENV_BASE_URL}"
            )
        if self.stop_reason == kinds.BAD_KEY:
            return (
                f"{self.stop_message}; {carried}. Set {constants.ENV_API_KEY} (or {constants.ENV_SECRET_ID}) "
                "to a valid key"
            )
        return (
            f"{self.stop_message}; {carried}. A free key only gets the last 100 sessions: run without a "
            "start date (compact), or use a premium key"
        )


def ingest(
    storage: Storage,
    *,
    run_id: str,
    as_of: dt.date,
    symbols: Iterable[str],
    source: Source,
    planner: RatePlanner,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    start: dt.date | None = None,
    max_rate_limit_retries: int = 3,
    max_transient_retries: int = 2,
) -> IngestResult:
    """Fetch `symbols` (after those carried by earlier runs) into the raw zone; write the manifest
    and the state. Returns what happened; raising NothingFetched is the caller's decision."""
    started = dt.datetime.fromtimestamp(clock(), tz=dt.timezone.utc)
    state = load_state(storage)
    plan = plan_symbols(state, symbols)
    day = planner.quota_day(clock())
    planner.absorb_usage(day, state.calls_on(source.name, day))
    run = _Run(
        storage, run_id, as_of, source, planner, progress, sleep, clock, start,
        (max_rate_limit_retries, max_transient_retries),
    )
    log.info("ingest %s: %d symbols from %s, as of %s", run_id, len(plan), source.name, as_of)
    prepare = getattr(source, "prepare", None)
    if prepare is not None:  # a source that computes bodies in batches (synthetic)
        prepare(plan, as_of=as_of, start=start)
    for done, symbol in enumerate(plan, start=1):
        record = run.records[symbol] = SymbolRecord(symbol)
        run.position = (done, len(plan), symbol)
        try:
            if run.stop_reason is None:
                run.fetch_symbol(record)
            else:
                run.carry(record, run.stop_reason if run.stop_reason != QUOTA_SPENT else kinds.DAILY_CAP)
        except BaseException:
            _abort(run, plan, state, started)
            raise
        log.info("%s: %s (%s, %d rows)", symbol, record.status, record.kind, record.rows)
        if progress is not None:
            progress(done, len(plan), symbol, record.status)
    if run.stop_reason is not None:
        run.problems.insert(0, run.stop_problem())
    if not plan:
        run.problems.append("no symbols to fetch: give symbols on the command line or in the configuration")
    return _finish(run, plan, state, started)


def _counts(run: _Run, plan: list[str]) -> dict[str, int]:
    records = run.records.values()
    raw_objects = [o for o in run.landing.objects if o.role in ("raw", "raw_csv_rendering")]
    return {
        "symbols_planned": len(plan),
        "symbols_fetched": sum(r.status == "fetched" for r in records),
        "symbols_failed": sum(r.status == "failed" for r in records),
        "symbols_carried": len(run.carried),
        "symbols_rejected": len(run.landing.rejected_symbols),
        "raw_objects": len(raw_objects),
        "raw_rows": sum(r.rows for r in records if r.status == "fetched"),
        "rejected_objects": sum(o.role == "rejected" for o in run.landing.objects),
        "api_calls": run.calls,
        "requests_unanswered": run.unanswered,
    }


def _status(counts: dict[str, int]) -> str:
    if counts["symbols_fetched"] == 0:
        return STATUS_NOTHING
    return STATUS_OK if counts["symbols_fetched"] == counts["symbols_planned"] else STATUS_PARTIAL


def _manifest(run: _Run, plan: list[str], status: str, counts: dict, started: dt.datetime) -> dict:
    planner = run.planner
    return {
        "status": status,
        "started_at": started.isoformat(),
        "finished_at": dt.datetime.fromtimestamp(run.clock(), tz=dt.timezone.utc).isoformat(),
        "start": run.start.isoformat() if run.start else None,
        "plan": plan,
        "symbols": {s: r.as_dict() for s, r in run.records.items()},
        "carried": [{"symbol": s, "reason": r} for s, r in run.carried.items()],
        "totals": counts,
        "problems": run.problems,
        "stop_reason": run.stop_reason,
        "limits": {
            "calls_per_minute": planner.calls_per_minute,
            "calls_per_day": planner.calls_per_day,
            "min_interval_s": planner.min_interval_s,
            "calls_by_quota_day": dict(planner.calls_by_day),
        },
    }


def _save_state(run: _Run, state) -> None:
    settled = [s for s, r in run.records.items() if r.status in ("fetched", "failed")]
    new_state = merge_state(
        state,
        run_id=run.run_id,
        as_of=run.as_of,
        source=run.source.name,
        carried_now=run.carried,
        settled=settled,
        calls_by_day=run.planner.calls_by_day,
    )
    save_state(run.storage, new_state)


def _finish(run: _Run, plan: list[str], state, started: dt.datetime) -> IngestResult:
    try:
        run.landing.settle()
    except BaseException:
        _abort(run, plan, state, started)
        raise
    run.landing.close()
    counts = _counts(run, plan)
    status = _status(counts)
    manifest_key = run.landing.write_manifest(_manifest(run, plan, status, counts, started))
    failpoints.hit("ingest.before_state", run.run_id)
    _save_state(run, state)
    log.info("ingest %s: %s %s", run.run_id, status, counts)
    return IngestResult(
        run.run_id, status, counts, manifest_key, run.problems, run.records, list(run.carried), run.stop_reason
    )


def _abort(run: _Run, plan: list[str], state, started: dt.datetime) -> None:
    """An unexpected error: record what landed and carry what did not, then let the error go on."""
    run.landing.close()
    landed = {o.key for o in run.landing.objects}
    for record in run.records.values():  # its body's write failed after the fetch
        if record.status == "fetched" and not {record.raw_key, record.csv_key or record.raw_key} <= landed:
            record.status = "pending"
    for symbol in plan:
        record = run.records.setdefault(symbol, SymbolRecord(symbol))
        if record.status not in ("fetched", "failed"):
            run.carry(record, "aborted")
    run.problems.insert(0, "the run stopped on an unexpected error; unfetched symbols are carried")
    try:
        counts = _counts(run, plan)
        run.landing.write_manifest(_manifest(run, plan, "aborted", counts, started))
        _save_state(run, state)
    except Exception:  # the original error matters more than this one
        log.exception("could not record the aborted run %s", run.run_id)
