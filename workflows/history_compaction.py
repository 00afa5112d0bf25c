"""Compaction of the quotes' history (stocks.intraday_quotes) as `tickerlake stream compact` and
the stack's scheduled HistoryCompactorFunction both run it: choose the days that are over and
that the consumer has finished, then merge each (glue_jobs.intraday.compact).

A day is over once its NYSE session closed (glue_jobs.intraday.compact_window); it is finished
once the transport holds no record the consumer has still to process on or before it: locally
the oldest unprocessed record on the lake's log bounds the days; on AWS (SQS FIFO) a queue does
not say its messages' days without receiving them, so while it holds any, no day is compacted."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from glue_jobs.intraday.compact import DayResult, compact_day, compactable_days
from glue_jobs.intraday.compact_window import GRACE, first_open_day
from glue_jobs.intraday.consume import CONSUMER
from glue_jobs.intraday.history import arrival_day
from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import Runtime, local_stream_path


@dataclass
class CompactionRun:
    """What one compaction did: each day's result, the days that failed (day -> error), and
    why it compacted nothing when it had to wait (`waiting`)."""
    days: list[DayResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: str | None = None


def _queue_waiting(runtime: Runtime) -> str | None:
    waiting = sum(st.lag or 0 for st in runtime.stream.status(CONSUMER))
    if waiting:
        return (f"the quote queue still holds {waiting} message(s) for the consumer; "
                "compact once it has drained them")
    return None


def _first_unfinished_day(runtime: Runtime) -> str | None:
    """The arrival day (UTC) of the oldest record the consumer has still to process on the local log."""
    if not os.path.exists(local_stream_path(runtime.lake)):
        return None
    stream = runtime.stream
    oldest = [r[0] for st in stream.status(CONSUMER) if (r := stream.read(st.shard_id, st.checkpoint, 1))]
    return min((arrival_day(r) for r in oldest), default=None)


def _day(text: str) -> str:
    try:
        return dt.date.fromisoformat(str(text)).isoformat()
    except ValueError:
        raise ConfigError(f"day {text!r}: give a date, e.g. 2026-11-27") from None


def compact_history(runtime: Runtime, *, now: dt.datetime, day: str | None = None,
                    say: Callable[[str], None] = lambda _: None) -> CompactionRun:
    """Compact every day that is over and finished (or only `day`: ConfigError if it is not)
    and not compacted yet. A day that fails is named in `failed`; the others still go on (a
    rerun finishes any of them: compact_day's steps are ordered for it)."""
    open_from = first_open_day(now)
    if runtime.kind == "local":
        unfinished = _first_unfinished_day(runtime)
        waiting = None
    else:
        waiting = _queue_waiting(runtime)
        unfinished = "" if waiting else None  # "" sorts before every day: none is finished
    before = open_from if unfinished is None else min(open_from, unfinished)
    if day is not None:
        day = _day(day)
        if day >= open_from:
            raise ConfigError(f"day {day}: the day is not over (its session has not closed, or closed less than "
                              f"{GRACE.total_seconds() / 60:g} minutes ago), so records can still arrive for it; "
                              "compact it later")
        if day >= before:
            drain = "run `tickerlake stream consume` first" if runtime.kind == "local" else \
                "compact once the consumer Lambda has drained the queue"
            raise ConfigError(f"day {day}: the stream still holds records of it (or of an earlier day) that the "
                              f"consumer has not processed; {drain}")
        # a day named by hand that cannot be compacted (no partition) is the caller's mistake
        run = CompactionRun(days=[compact_day(runtime.storage, runtime.catalog, day)])
        say(describe(run.days[0]))
        return run
    run = CompactionRun(waiting=waiting)
    if waiting:
        say(waiting)
    for d in compactable_days(runtime.storage, runtime.catalog, before):
        try:
            result = compact_day(runtime.storage, runtime.catalog, d)
        except Exception as exc:  # noqa: BLE001 - the other days still go on; the caller fails loudly
            run.failed[d] = f"{type(exc).__name__}: {exc}"
            say(f"dt={d}: failed: {run.failed[d]}")
            continue
        run.days.append(result)
        say(describe(result))
    return run


def describe(result: DayResult) -> str:
    """One line saying what compacting a day did."""
    if result.state == "compacted":
        return (f"dt={result.day}: {result.files_merged} files merged into {result.files_written} "
                f"({result.rows} rows)")
    return (f"dt={result.day}: {result.state}"
            + (f", {result.leftovers_deleted} merged files left by an earlier run deleted"
               if result.leftovers_deleted else ""))
