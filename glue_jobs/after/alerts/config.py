"""Alert thresholds: sql/alerts/alerts.yml, overridden by a file named in
TICKERLAKE_ALERTS_FILE, then by a run's settings["alerts"] mapping. Checked here, so a typo
stops the run with exit code 2 and a message naming the key."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glue_jobs.lake import sql_files
from glue_jobs.lake.errors import ConfigError

DEFAULTS_FILE = "alerts/alerts.yml"
ENV_FILE = "TICKERLAKE_ALERTS_FILE"
DIRECTIONS = ("up", "down")


@dataclass(frozen=True)
class PriceLevel:
    level: float
    directions: tuple[str, ...] = DIRECTIONS


@dataclass(frozen=True)
class AlertConfig:
    lookback_sessions: int = 3
    daily_move_percent: float = 5.0
    volume_ratio: float = 3.0
    volume_min_sessions: int = 20
    stale_enabled: bool = True
    stale_grace_sessions: int = 0
    price_levels: dict[str, tuple[PriceLevel, ...]] = field(default_factory=dict)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key != "price_levels":
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _number(value: Any, where: str, *, minimum: float = 0.0, whole: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"alerts: {where} must be a number, got {value!r}")
    if whole and value != int(value):
        raise ConfigError(f"alerts: {where} must be a whole number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"alerts: {where} must be at least {minimum:g}, got {value!r}")
    return int(value) if whole else float(value)


def _levels(symbol: str, spec: Any) -> tuple[PriceLevel, ...]:
    where = f"price_levels.{symbol}"
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = [spec]
    if isinstance(spec, list):
        return tuple(PriceLevel(_number(v, where, minimum=0.0)) for v in spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(DIRECTIONS)
        if unknown:
            raise ConfigError(f"alerts: {where} has {', '.join(sorted(map(str, unknown)))}; use up: and down:")
        out = []
        for direction in DIRECTIONS:
            values = spec.get(direction) or []
            values = values if isinstance(values, list) else [values]
            out += [PriceLevel(_number(v, f"{where}.{direction}"), (direction,)) for v in values]
        return tuple(out)
    raise ConfigError(f"alerts: {where} must be a list of prices or {{up: [...], down: [...]}}, got {spec!r}")


def parse_config(doc: Mapping[str, Any]) -> AlertConfig:
    """An AlertConfig from a mapping shaped like alerts.yml."""
    known = {"lookback_sessions", "daily_move", "volume_spike", "stale_series", "price_levels"}
    unknown = set(doc) - known
    if unknown:
        raise ConfigError(f"alerts: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    move = doc.get("daily_move") or {}
    volume = doc.get("volume_spike") or {}
    stale = doc.get("stale_series") or {}
    levels = doc.get("price_levels") or {}
    if not isinstance(levels, Mapping):
        raise ConfigError("alerts: price_levels must map symbols to levels, e.g. {AAPL: [250]}")
    return AlertConfig(
        lookback_sessions=_number(doc.get("lookback_sessions", 3), "lookback_sessions", minimum=1, whole=True),
        daily_move_percent=_number(move.get("percent", 5.0), "daily_move.percent", minimum=0.01),
        volume_ratio=_number(volume.get("ratio", 3.0), "volume_spike.ratio", minimum=1.0),
        volume_min_sessions=_number(volume.get("min_sessions", 20), "volume_spike.min_sessions",
                                    minimum=1, whole=True),
        stale_enabled=bool(stale.get("enabled", True)),
        stale_grace_sessions=_number(stale.get("grace_sessions", 0), "stale_series.grace_sessions", whole=True),
        price_levels={str(sym).upper(): _levels(str(sym).upper(), spec) for sym, spec in levels.items()},
    )


def _read_yaml(path: Path, origin: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{origin}: {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{origin}: {path} must hold a mapping of settings")
    return doc


def load_config(settings: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> AlertConfig:
    """The defaults file, then TICKERLAKE_ALERTS_FILE, then settings['alerts']."""
    env = os.environ if env is None else env
    doc = _read_yaml(sql_files.sql_dir() / DEFAULTS_FILE, "alert defaults")
    if env.get(ENV_FILE):
        doc = _merge(doc, _read_yaml(Path(env[ENV_FILE]), ENV_FILE))
    override = (settings or {}).get("alerts")
    if override:
        doc = _merge(doc, override)
    return parse_config(doc)
