"""Run settings from flags and environment, validated in one place so that every
configuration mistake stops the run before it touches the lake, with exit code 2."""
from __future__ import annotations

import datetime as dt
import difflib
import logging
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
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Far above any real key's allowance, and below what the ledger's bigint columns hold.
MAX_CALLS = 10**9
API_KEY_VARS = ("ALPHAVANTAGE_API_KEY", "ALPHAVANTAGE_SECRET_ID")
# Every TICKERLAKE_* variable something reads (besides TICKERLAKE_AUDIT_<setting>, from the rule
# book): a name not here is a typo or a leftover, and gets a warning naming the closest one.
KNOWN_ENV = (
    "TICKERLAKE_LAKE", "TICKERLAKE_SOURCE", "TICKERLAKE_SYMBOLS", "TICKERLAKE_DATE", "TICKERLAKE_CALLS_PER_MINUTE",
    "TICKERLAKE_CALLS_PER_DAY", "TICKERLAKE_MIN_INTERVAL_S", "TICKERLAKE_DATATYPE", "TICKERLAKE_FAULTS",
    "TICKERLAKE_SEED", "TICKERLAKE_WORKGROUP", "TICKERLAKE_TOPIC_ARN", "TICKERLAKE_ALERTS_FILE",
    "TICKERLAKE_RETENTION_DAYS", "TICKERLAKE_DUCKDB_MEMORY_LIMIT", "TICKERLAKE_WORKFLOW_NAME",
    "TICKERLAKE_GLUE_DATABASE", "TICKERLAKE_AWS_REGION", "TICKERLAKE_ATHENA_WORKGROUP", "TICKERLAKE_ATHENA_CATALOG",
    "TICKERLAKE_GRAFANA_DASHBOARDS", "TICKERLAKE_FAILPOINT", "TICKERLAKE_FAILPOINT_ACTION",
    "TICKERLAKE_FAILPOINT_MATCH", "TICKERLAKE_FAILPOINT_HIT", "TICKERLAKE_SQL_CACHE", "TICKERLAKE_SERVING_TABLE",
    "TICKERLAKE_LAMBDA_PYTHON",
    # fan-out ingestion (ingestion/fanout/): the mode, the token-bucket table, the queues' URLs
    "TICKERLAKE_INGEST_MODE", "TICKERLAKE_TOKEN_BUCKET_TABLE", "TICKERLAKE_QUEUE_URL_INGEST",
    "TICKERLAKE_QUEUE_URL_INGEST_DLQ",
    # the intraday stream (issue 14): its transport and the producer's watchlist
    "TICKERLAKE_STREAM_NAME", "TICKERLAKE_STREAM_QUEUE_URL", "TICKERLAKE_STREAM_SHARDS", "TICKERLAKE_WATCHLIST",
    "TICKERLAKE_STREAM_INTERVAL_S",
)

log = logging.getLogger("tickerlake.settings")


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
    # Whether the source and the symbols were asked for (a flag or the environment) rather than
    # defaulted: commands on an existing lake (wap, crawl) take both from the lake instead.
    source_given: bool = False
    symbols_given: bool = False
    # --switch-source: change the lake's recorded source on purpose (glue_jobs/lake/lake_record.py)
    switch_source: bool = False
    warnings: list[str] = field(default_factory=list)


def parse_date(value: str, flag: str) -> dt.date:
    """Exactly YYYY-MM-DD (Python 3.11's fromisoformat also takes 20261120 and 2026-W47-5)."""
    problem = f"{flag} {value!r} is not a date: expected YYYY-MM-DD, e.g. 2026-11-20"
    if not DATE_RE.match(value):
        raise ConfigError(problem)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(problem) from None


def _text(flag_value: str | None, env: dict[str, str], var: str | None, flag: str) -> str | None:
    """A text setting: the flag, else the variable; either given but empty is an error (an empty
    value never silently means the default)."""
    if flag_value is not None:
        if not flag_value.strip():
            raise ConfigError(f"{flag} is empty: give a value or leave the flag out")
        return flag_value.strip()
    if var and var in env:
        if not env[var].strip():
            raise ConfigError(f"{var} is set but empty: give it a value or unset it (unset {var})")
        return env[var].strip()
    return None


def parse_symbols(text: str, origin: str) -> list[str]:
    """Symbols separated by commas, spaces or new lines; '#' starts a comment in a file."""
    out: list[str] = []
    seen: set[str] = set()  # a list's `in` made 5,000 symbols cost 0.2 s
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
            if sym not in seen:
                seen.add(sym)
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
    if number > MAX_CALLS:
        raise ConfigError(f"{name} {number} is beyond any key's allowance: at most {MAX_CALLS}")
    return number


def _optional_limit(flag: str | int | None, env: dict[str, str], var: str, name: str) -> int | None:
    if isinstance(flag, int):
        return _positive_int(flag, name)
    text = _text(flag, env, var, name)
    if text is None:
        return None
    return _positive_int(text, name if flag is not None else var)


def check_environment(env: dict[str, str], audit_names: list[str]) -> list[str]:
    """Warnings for TICKERLAKE_* names nothing reads, each naming the closest known one."""
    known = [*KNOWN_ENV, *("TICKERLAKE_AUDIT_" + n[len("audit_"):].upper() for n in audit_names)]
    out = []
    for name in sorted(env):
        if name.startswith("TICKERLAKE_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(known[:6]) + ", ... (README)"
            out.append(f"{name} is not a tickerlake setting and is ignored: {hint}")
    return out


def _audit_settings(env: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """TICKERLAKE_AUDIT_* values, each checked against the rule book's range for it."""
    from glue_jobs.audit.thresholds import threshold_settings, threshold_value

    known = threshold_settings()
    audit = {}
    for name, value in env.items():
        if not name.startswith("TICKERLAKE_AUDIT_"):
            continue
        setting = "audit_" + name[len("TICKERLAKE_AUDIT_"):].lower()
        if setting not in known:
            continue  # check_environment warns about it
        if not value.strip():
            raise ConfigError(f"{name} is set but empty: give it a value or unset it (unset {name})")
        threshold_value(known[setting], value, name)
        audit[setting] = value.strip()
    return audit, sorted(known)


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
    switch_source: bool = False,
    ingests: bool = False,
    env: dict[str, str] | None = None,
) -> Settings:
    """Flags win over TICKERLAKE_* environment variables, which win over defaults. Every value
    is checked here, before anything touches the lake or calls a source; `ingests`: the command
    fetches (run, ingest), so the source must be usable (an API key for Alpha Vantage)."""
    env = dict(os.environ if env is None else env)
    lake = _text(lake, env, "TICKERLAKE_LAKE", "--lake") or "lake"
    _check_lake_path(lake)
    given_source = _text(source, env, "TICKERLAKE_SOURCE", "--source")
    source = given_source or "synthetic"
    if source not in SOURCES:
        raise ConfigError(f"--source {source!r} is unknown: choose one of {', '.join(SOURCES)}")

    symbols = _text(symbols, env, None, "--symbols")
    symbols_file = _text(symbols_file, env, None, "--symbols-file")
    env_symbols = _text(None, env, "TICKERLAKE_SYMBOLS", "TICKERLAKE_SYMBOLS")
    if symbols and symbols_file:
        raise ConfigError("give --symbols or --symbols-file, not both")
    if symbols_file:
        symbol_list = parse_symbols(_read_symbols_file(symbols_file), symbols_file)
    elif symbols or env_symbols:
        origin = "--symbols" if symbols else "TICKERLAKE_SYMBOLS"
        symbol_list = parse_symbols(symbols or env_symbols or "", origin)
    else:
        symbol_list = list(DEFAULT_SYMBOLS)

    date = _text(date, env, "TICKERLAKE_DATE", "--date")
    latest = trading_calendar.latest_completed_session()
    if date:
        as_of = parse_date(date, "--date")
        if not trading_calendar.is_session(as_of):
            before = trading_calendar.previous_session(as_of)
            raise ConfigError(
                f"--date {as_of} ({as_of:%A}) is not an NYSE session; the session before it is {before}"
            )
    else:
        as_of = latest
    if as_of > latest:
        raise ConfigError(
            f"--date {as_of} has not closed yet; the latest completed session in New York is {latest}"
        )

    start = _text(start, env, None, "--start")
    start_date = parse_date(start, "--start") if start else None
    if start_date and start_date > as_of:
        raise ConfigError(f"--start {start_date} is after the as-of date {as_of}")

    cpm = _optional_limit(calls_per_minute, env, "TICKERLAKE_CALLS_PER_MINUTE", "--calls-per-minute")
    cpd = _optional_limit(calls_per_day, env, "TICKERLAKE_CALLS_PER_DAY", "--calls-per-day")
    _optional_float(env, "TICKERLAKE_MIN_INTERVAL_S")
    datatype = _text(datatype, env, "TICKERLAKE_DATATYPE", "--datatype") or "csv"
    if datatype not in ("csv", "json"):
        raise ConfigError(f"--datatype {datatype!r} is unknown: choose csv or json")
    faults = _text(faults, env, "TICKERLAKE_FAULTS", "--faults") or ""
    if faults and source != "synthetic":
        raise ConfigError(f"--faults {faults!r} injects bad rows into synthetic data only; --source {source} "
                          "is real data: leave --faults (and TICKERLAKE_FAULTS) out")
    if faults:
        from ingestion.synthetic.faults import parse_fault_spec

        try:
            parse_fault_spec(faults)
        except ValueError as exc:
            raise ConfigError(f"--faults {faults!r}: {exc}") from None
    if seed is None:
        seed_text = _text(None, env, "TICKERLAKE_SEED", "TICKERLAKE_SEED")
        seed = _whole(seed_text, "TICKERLAKE_SEED") if seed_text is not None else 0
    if not 0 <= seed < 2**32:
        raise ConfigError(f"--seed {seed} is out of range: a whole number from 0 to {2**32 - 1}")
    audit, audit_names = _audit_settings(env)
    warnings = check_environment(env, audit_names)
    if ingests and source == "alphavantage":
        if not any((env.get(var) or "").strip() for var in API_KEY_VARS):
            raise ConfigError(
                "--source alphavantage needs an API key: export ALPHAVANTAGE_API_KEY=... (a free key at "
                "https://www.alphavantage.co/support/#api-key), or ALPHAVANTAGE_SECRET_ID on AWS. "
                "Nothing was created or fetched")
        if date and as_of < latest and not start_date:
            warnings.append(
                f"--date {as_of} is before the latest session {latest}: Alpha Vantage's compact answer is the "
                "last 100 sessions up to today, not up to --date, so bars after it are held back by the audit "
                "(not_after_as_of) and sessions more than 100 back are not in the answer at all; "
                "for history use --start YYYY-MM-DD (a premium key)")
    return Settings(
        lake=lake,
        source=source,
        symbols=symbol_list,
        as_of=as_of,
        start=start_date,
        calls_per_minute=cpm,
        calls_per_day=cpd,
        faults=faults,
        seed=seed,
        datatype=datatype,
        audit=audit,
        workgroup=_text(workgroup, env, "TICKERLAKE_WORKGROUP", "--workgroup"),
        topic_arn=_text(topic_arn, env, "TICKERLAKE_TOPIC_ARN", "TICKERLAKE_TOPIC_ARN"),
        source_given=given_source is not None,
        symbols_given=bool(symbols or symbols_file or env_symbols),
        switch_source=switch_source,
        warnings=warnings,
    )


# Pseudo-filesystems (and device files) are never a lake: writing there fails in odd ways or worse.
_SYSTEM_DIRS = ("/proc", "/sys", "/dev")


def _check_lake_path(lake: str) -> None:
    if "://" in lake:
        return  # the runtime checks the scheme
    path = os.path.realpath(lake)
    for system in _SYSTEM_DIRS:
        if path == system or path.startswith(system + "/"):
            raise ConfigError(f"--lake {lake}: {system} is a system folder, not a place for a lake; "
                              "give a directory of your own, e.g. --lake ./lake")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"--lake {lake} is a file, not a directory: give the lake's directory "
                          "(a new one is created by `tickerlake run`)")


def _read_symbols_file(name: str) -> str:
    path = Path(name)
    if not path.is_file():
        what = "a directory" if path.is_dir() else "no such file"
        raise ConfigError(f"--symbols-file {name}: {what}; give a text file of symbols, one per line")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--symbols-file {name} is not UTF-8 text (byte {exc.start}: {exc.reason}): "
                          "give a text file of symbols, one per line or comma-separated") from None
    except OSError as exc:
        raise ConfigError(f"--symbols-file {name} cannot be read: {exc.strerror}") from None


def _optional_float(env: dict[str, str], var: str) -> float | None:
    text = _text(None, env, var, var)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{var} {text!r} is not a number") from None
    if not 0 <= value < 3600:
        raise ConfigError(f"{var} {text!r} is out of range: seconds from 0 to 3600")
    return value


def _whole(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a whole number") from None
