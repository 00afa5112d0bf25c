"""One producer run, as `tickerlake stream produce` and the scheduled producer Lambda run it:
choose the session, check the interval against the key's limits, build the source, run the
loop, keep what was rejected.

- alphavantage: only while a session is open (regular hours, early closes included); outside
  one the run says when the next opens and does nothing. The interval (default: the tightest
  the key sustains) is refused when the key cannot sustain it over the session, naming the
  shortest it can.
- synthetic: the latest session that opened (today's, or the last one before now) is
  simulated on its own clock: the run works at any hour and goes as fast as it can; the
  interval (default 60 s) is the session time between a symbol's quotes.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.session_hours import Session, latest_session, next_session, open_session
from glue_jobs.lake.trading_calendar import NEW_YORK
from glue_jobs.ports.engine import Engine
from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import Stream
from ingestion.intraday.anchors import anchors_for
from ingestion.intraday.producer import ProduceReport, Rejected, Schedule, produce
from ingestion.intraday.quota import IntervalRefused, Limits, check_interval, tightest_interval
from ingestion.intraday.synthetic_quotes import SyntheticQuotes

DEFAULT_SYNTHETIC_INTERVAL_S = 60.0
SOURCES = ("synthetic", "alphavantage")


@dataclass(frozen=True)
class ProduceRequest:
    symbols: tuple[str, ...]
    source: str = "synthetic"
    interval_s: float | None = None
    records: int | None = None
    duration_s: float | None = None
    seed: int = 0
    calls_per_minute: int | None = None  # flags; None: TICKERLAKE_* or the free key's
    calls_per_day: int | None = None
    # alphavantage: make the calls due from this time on (UTC epoch ms; None: now). The scheduled
    # Lambda passes its minute's start, so a late start still makes that minute's calls.
    window_start_ms: int | None = None


@dataclass
class ProduceResult:
    report: ProduceReport | None  # None: no session open, nothing done
    session: Session  # the session produced (or, when closed, the next one)
    interval_s: float = 0.0
    binding: str = ""  # which limit set the tightest interval (alphavantage)

    def summary(self) -> str:
        local = self.session.open_utc.astimezone(NEW_YORK)
        if self.report is None:
            return (f"the NYSE is closed: the next session opens {local:%Y-%m-%d %H:%M} New York time "
                    f"({self.session.open_utc:%Y-%m-%d %H:%M} UTC); nothing fetched")
        r = self.report
        lines = [f"{r.put} quote record(s) put on the stream from {r.calls} call(s) for session "
                 f"{self.session.day} (every {self.interval_s:g} s a symbol); stopped: {r.stopped}"]
        if r.first_event_ms is not None:
            lines.append(f"  event times {_utc(r.first_event_ms)} .. {_utc(r.last_event_ms)}")
        if r.rejected:
            kinds: dict[str, int] = {}
            for item in r.rejected:
                kinds[item.kind] = kinds.get(item.kind, 0) + 1
            lines.append(f"  rejected {len(r.rejected)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
                         "bodies and reasons under rejected/quotes/")
        return "\n".join(lines)


def run_produce(request: ProduceRequest, *, stream: Stream, storage: Storage, engine: Engine | None,
                env: Mapping[str, str], clock: Callable[[], float] = time.time,
                sleep: Callable[[float], None] = time.sleep, warn: Callable[[str], None] = lambda m: None,
                progress: Callable[[ProduceReport], None] | None = None, http_session: Any = None,
                secrets_client: Any = None) -> ProduceResult:
    if request.source not in SOURCES:
        raise ConfigError(f"--source {request.source!r}: use one of {', '.join(SOURCES)}")
    if not request.symbols:
        raise ConfigError("the watchlist is empty: give --watchlist or --symbols")
    now = dt.datetime.fromtimestamp(clock(), tz=dt.timezone.utc)
    if request.source == "synthetic":
        return _synthetic(request, stream, storage, engine, now, clock, sleep, warn, progress)
    return _alphavantage(request, stream, storage, env, now, clock, sleep, progress, http_session, secrets_client)


def _synthetic(request, stream, storage, engine, now, clock, sleep, warn, progress) -> ProduceResult:
    session = latest_session(now)
    interval = request.interval_s if request.interval_s is not None else DEFAULT_SYNTHETIC_INTERVAL_S
    if interval <= 0:
        raise ConfigError(f"--interval {interval:g}: give a number of seconds above 0")
    anchors = anchors_for(engine, list(request.symbols), session.day, seed=request.seed, warn=warn)
    walk = SyntheticQuotes({s: a.close for s, a in anchors.items()}, day=session.day.isoformat(),
                           interval_s=interval, session_s=session.seconds, seed=request.seed,
                           daily_volumes={s: a.volume for s, a in anchors.items()})
    from ingestion.intraday.sources import SyntheticQuoteSource

    schedule = _schedule(request.symbols, interval, session)
    report = produce(schedule, SyntheticQuoteSource(walk), stream, records=request.records,
                     duration_s=request.duration_s, clock=clock, sleep=sleep,
                     on_reject=_keeper(storage, session.day, "synthetic"), progress=progress)
    return ProduceResult(report, session, interval, "")


DAILY_INGESTION = "the daily ingestion"


def quota_limits(request: ProduceRequest, env: Mapping[str, str], used_today: int = 0) -> Limits:
    from ingestion.sources import build_planner

    planner = build_planner("alphavantage", env=env, calls_per_minute=request.calls_per_minute,
                            calls_per_day=request.calls_per_day)
    return Limits(planner.calls_per_minute, planner.calls_per_day, planner.min_interval_s, used_today,
                  DAILY_INGESTION)


def ingestion_calls_today(storage: Storage, now: float) -> int:
    """Calls the daily ingestion (plain or fan-out) made on the key today: the lake's ingestion
    state counts them per UTC quota day, as the ingestion's own rate planner does."""
    from ingestion.rate_limit import utc_day
    from ingestion.state import load_state

    return load_state(storage).calls_on("alphavantage", utc_day(now))


def plan_interval(request: ProduceRequest, limits: Limits, session: Session) -> tuple[float, str]:
    """(the interval, the binding limit): the one asked for if the key sustains it over the
    session, else ConfigError (exit 2) naming the shortest it sustains; the tightest by default."""
    try:
        if request.interval_s is None:
            plan = tightest_interval(len(request.symbols), limits, session.seconds)
        else:
            plan = check_interval(request.interval_s, len(request.symbols), limits, session.seconds)
    except IntervalRefused as exc:
        raise ConfigError(str(exc)) from None
    return plan.interval_s, plan.binding


def precheck(request: ProduceRequest, env: Mapping[str, str], now: float) -> None:
    """Refuses (ConfigError, exit 2) an interval the key cannot sustain over the open or next
    session, before anything is opened or created."""
    if request.source == "alphavantage":
        when = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc)
        plan_interval(request, quota_limits(request, env), open_session(when) or next_session(when))
    elif request.interval_s is not None and request.interval_s <= 0:
        raise ConfigError(f"--interval {request.interval_s:g}: give a number of seconds above 0")


def _alphavantage(request, stream, storage, env, now, clock, sleep, progress, http_session, secrets_client):
    session = open_session(now)
    # the key is shared: what the daily ingestion spent today is not the producer's to spend
    limits = quota_limits(request, env, ingestion_calls_today(storage, now.timestamp()))
    if session is None:
        upcoming = next_session(now)
        plan_interval(request, limits, upcoming)  # a bad interval is refused even while closed
        return ProduceResult(None, upcoming)
    interval, binding = plan_interval(request, limits, session)
    from ingestion.alphavantage.source import AlphaVantageSource
    from ingestion.intraday.sources import AlphaVantageQuoteSource
    from ingestion.rate_limit import RatePlanner

    daily = AlphaVantageSource.from_env(env, session=http_session, secrets_client=secrets_client, sleep=sleep,
                                        clock=clock)
    # the schedule keeps the calls within the limits; the planner is the guard behind it (its
    # spacing is the schedule's, so it never adds a wait the schedule did not plan)
    planner = RatePlanner(limits.calls_per_minute, limits.calls_per_day,
                          min(limits.min_spacing_s, interval / len(request.symbols)), used_today=limits.used_today)
    source = AlphaVantageQuoteSource(daily._client, daily._key, planner, session.day, clock=clock, sleep=sleep)
    schedule = _schedule(request.symbols, interval, session)
    start = schedule.first_call_at(request.window_start_ms if request.window_start_ms is not None
                                   else int(clock() * 1000))
    report = produce(schedule, source, stream, start=start, records=request.records, duration_s=request.duration_s,
                     clock=clock, sleep=sleep, on_reject=_keeper(storage, session.day, "alphavantage"),
                     progress=progress)
    return ProduceResult(report, session, interval, binding)


def _schedule(symbols: tuple[str, ...], interval_s: float, session: Session) -> Schedule:
    return Schedule(tuple(symbols), interval_s / len(symbols), int(session.open_utc.timestamp() * 1000),
                    int(session.close_utc.timestamp() * 1000))


def _keeper(storage: Storage, day: dt.date, source: str) -> Callable[[Rejected, bytes], None]:
    """Keeps a rejected answer (its body as received, key masked) and its reason in the lake."""
    def keep(rejected: Rejected, body: bytes) -> None:
        base = f"rejected/quotes/session={day}/symbol={rejected.symbol}/{source}-round{rejected.round_index}"
        storage.put_bytes(base + ".body", body)
        storage.put_bytes(base + ".reason.json", json.dumps({
            "symbol": rejected.symbol, "round": rejected.round_index, "kind": rejected.kind,
            "reason": rejected.reason, "source": source, "session": str(day)}, indent=2).encode() + b"\n")
    return keep


def _utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
