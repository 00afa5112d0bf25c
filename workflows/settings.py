"""Run settings from flags and environment, validated in one place so that every
configuration mistake stops the run before it touches the lake, with exit code 2."""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import ConfigError

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "JPM", "V", "XOM", "IBM")
SOURCES = ("synthetic", "alphavantage")
# Exchange tickers plus the suffixes Alpha Vantage uses for other venues (e.g. SHOP.TRT, BRK-B).
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")



@dataclass
class Settings:
    lake: str
    source: str = "synthetic"
    symbols: list[str] = field(default_factory=lambda: list(DEFAULT_SYMBOLS))
    as_of: dt.date = field(default_factory=trading_calendar.latest_completed_session)
    start: dt.date | None = None
    # None: the source's own default (a free key's limits for Alpha Vantage, none for synthetic).
    calls_per_minute: int | None = None
    calls_per_day: int | None = None
    faults: str = ""
    seed: int = 0
    datatype: str = "csv"
    # Audit thresholds by their rule-book setting names (sql/wap/audit/daily_prices.yml), from
    # TICKERLAKE_AUDIT_* variables: TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE=0.1 -> audit_max_quarantine_share.
    audit: dict[str, str] = field(default_factory=dict)
    # An s3:// lake's Athena workgroup (--workgroup or TICKERLAKE_WORKGROUP) and SNS topic for
    # alerts (TICKERLAKE_TOPIC_ARN); a directory lake ignores both.
    workgroup: str | None = None
    topic_arn: str | None = None


def parse_date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} {value!r} is not a date: expected YYYY-MM-DD, e.g. 2026-11-20") from None


def parse_symbols(text: str, origin: str) -> list[str]:
    """Symbols separated by commas, spaces or new lines; '#' starts a comment in a file."""
    out: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        for raw in re.split(r"[,\s]+", line):
            if not raw:
                continue
            sym = raw.upper()
            if not SYMBOL_RE.match(sym):
                where = f"{origin} line {lineno}" if "\n" in text else origin
                raise ConfigError(
                    f"{where}: {raw!r} is not a ticker symbol (letters, digits, '.' or '-', at most 15)"
                )
            if sym not in out:
                out.append(sym)
    if not out:
        raise ConfigError(f"{origin}: no symbols given")
    return out


def _positive_int(value: str | int, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} {value!r} is not a whole number") from None
    if number <= 0:
        raise ConfigError(f"{name} must be at least 1, got {number}")
    return number


def _optional_limit(flag: str | int | None, env: dict[str, str], var: str, name: str) -> int | None:
    if flag is not None and flag != "":
        return _positive_int(flag, name)
    if env.get(var):
        return _positive_int(env[var], var)
    return None


def build_settings(
    *,
    lake: str | None = None,
    source: str | None = None,
    symbols: str | None = None,
    symbols_file: str | None = None,
    date: str | None = None,
    start: str | None = None,
    calls_per_minute: str | int | None = None,
    calls_per_day: str | int | None = None,
    faults: str | None = None,
    seed: int | None = None,
    datatype: str | None = None,
    workgroup: str | None = None,
    topic_arn: str | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Flags win over TICKERLAKE_* environment variables, which win over defaults."""
    env = dict(os.environ if env is None else env)
    lake = lake or env.get("TICKERLAKE_LAKE") or "lake"
    source = source or env.get("TICKERLAKE_SOURCE") or "synthetic"
    if source not in SOURCES:
        raise ConfigError(f"--source {source!r} is unknown: choose one of {', '.join(SOURCES)}")

    if symbols and symbols_file:
        raise ConfigError("give --symbols or --symbols-file, not both")
    if symbols_file:
        path = Path(symbols_file)
        if not path.is_file():
            raise ConfigError(f"--symbols-file {symbols_file}: no such file")
        symbol_list = parse_symbols(path.read_text(encoding="utf-8"), str(path))
    elif symbols or env.get("TICKERLAKE_SYMBOLS"):
        origin = "--symbols" if symbols else "TICKERLAKE_SYMBOLS"
        symbol_list = parse_symbols(symbols or env["TICKERLAKE_SYMBOLS"], origin)
    else:
        symbol_list = list(DEFAULT_SYMBOLS)

    date = date or env.get("TICKERLAKE_DATE")
    if date:
        as_of = parse_date(date, "--date")
        if not trading_calendar.is_session(as_of):
            before = trading_calendar.previous_session(as_of)
            raise ConfigError(
                f"--date {as_of} ({as_of:%A}) is not an NYSE session; the session before it is {before}"
            )
    else:
        as_of = trading_calendar.latest_completed_session()
    latest = trading_calendar.latest_completed_session()
    if as_of > latest:
        raise ConfigError(
            f"--date {as_of} has not closed yet; the latest completed session in New York is {latest}"
        )

    start_date = parse_date(start, "--start") if start else None
    if start_date and start_date > as_of:
        raise ConfigError(f"--start {start_date} is after the as-of date {as_of}")

    cpm = _optional_limit(calls_per_minute, env, "TICKERLAKE_CALLS_PER_MINUTE", "--calls-per-minute")
    cpd = _optional_limit(calls_per_day, env, "TICKERLAKE_CALLS_PER_DAY", "--calls-per-day")
    datatype = datatype or env.get("TICKERLAKE_DATATYPE") or "csv"
    if datatype not in ("csv", "json"):
        raise ConfigError(f"--datatype {datatype!r} is unknown: choose csv or json")
    audit = {
        "audit_" + name[len("TICKERLAKE_AUDIT_"):].lower(): value
        for name, value in env.items()
        if name.startswith("TICKERLAKE_AUDIT_") and value != ""
    }
    return Settings(
        lake=lake,
        source=source,
        symbols=symbol_list,
        as_of=as_of,
        start=start_date,
        calls_per_minute=cpm,
        calls_per_day=cpd,
        faults=faults or env.get("TICKERLAKE_FAULTS", ""),
        seed=seed if seed is not None else _whole(env.get("TICKERLAKE_SEED") or "0", "TICKERLAKE_SEED"),
        datatype=datatype,
        audit=audit,
        workgroup=workgroup or env.get("TICKERLAKE_WORKGROUP") or None,
        topic_arn=topic_arn or env.get("TICKERLAKE_TOPIC_ARN") or None,
    )


def _whole(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a whole number") from None
