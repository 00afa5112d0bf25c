"""The one interface every source implements, so the ingest loop treats them alike.

    alphavantage  the real API (needs a key)
    synthetic     reproducible random-walk series on NYSE sessions (offline runs, tests, benchmarks)
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Callable

from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage import constants
from ingestion.rate_limit import RatePlanner
from ingestion.source_api import Source

SOURCES = ("alphavantage", "synthetic")

def build_source(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    api_key: Any = None,
    base_url: str | None = None,
    datatype: str = constants.DEFAULT_DATATYPE,
    session: Any = None,
    secrets_client: Any = None,
    sleep: Callable[[float], None] | None = None,
    seed: int = 0,
    faults: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Source:
    """A Source by name. For alphavantage the key is resolved now, so a missing key fails
    before any work (ConfigError naming the settings)."""
    env = os.environ if env is None else env
    if name == "synthetic":
        from ingestion.synthetic.source import SyntheticSource

        return SyntheticSource(seed=seed, faults=faults, clock=clock)
    if name == "alphavantage":
        from glue_jobs.lake.extras import require

        require("requests", "the alphavantage source")
        from ingestion.alphavantage.source import AlphaVantageSource

        if datatype not in constants.DATATYPES:
            raise ConfigError(f"--datatype must be one of {', '.join(constants.DATATYPES)}, not {datatype!r}")
        return AlphaVantageSource.from_env(
            env,
            api_key=api_key,
            base_url=base_url,
            datatype=datatype,
            session=session,
            secrets_client=secrets_client,
            sleep=sleep,
            clock=clock,
        )
    raise ConfigError(f"unknown source {name!r}: use one of {', '.join(SOURCES)}")


def build_planner(
    source_name: str,
    *,
    env: Mapping[str, str] | None = None,
    calls_per_minute: int | None = None,
    calls_per_day: int | None = None,
    min_interval_s: float | None = None,
) -> RatePlanner:
    """The rate planner for a source: flags first, then TICKERLAKE_* variables, then the free
    key's defaults. The synthetic source makes no calls worth limiting unless asked to."""
    env = os.environ if env is None else env
    cpm = _setting(calls_per_minute, env, constants.ENV_CALLS_PER_MINUTE, int, "--calls-per-minute")
    cpd = _setting(calls_per_day, env, constants.ENV_CALLS_PER_DAY, int, "--calls-per-day")
    gap = _setting(min_interval_s, env, constants.ENV_MIN_INTERVAL_S, float, "--min-interval")
    if source_name == "synthetic":
        return RatePlanner(cpm, cpd, gap or 0.0)
    per_minute = constants.DEFAULT_CALLS_PER_MINUTE if cpm is None else cpm
    if gap is None:
        # The free key's burst spacing, but never wider than an even spread of the per-minute
        # allowance: a premium 75-a-minute key goes every 0.8 s and uses its whole allowance.
        gap = min(constants.DEFAULT_MIN_INTERVAL_S, 60.0 / per_minute)
    return RatePlanner(per_minute, constants.FREE_CALLS_PER_DAY if cpd is None else cpd, gap)


def _setting(value: Any, env: Mapping[str, str], var: str, kind: type, flag: str) -> Any:
    origin = flag
    if value is None:
        raw = (env.get(var) or "").strip()
        if not raw:
            return None
        value, origin = raw, var
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin} must be a number, got {value!r}") from None
    if number < 0 or (kind is int and number == 0):
        raise ConfigError(f"{origin} must be positive, got {value!r}")
    return number
