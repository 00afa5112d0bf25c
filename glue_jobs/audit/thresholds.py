"""The audit's thresholds and their ranges, read from the rule book without the rest of the audit
(no pandas), so that settings can check TICKERLAKE_AUDIT_* values before a run starts."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from glue_jobs.lake.errors import ConfigError

RULES_FILE = "wap/audit/daily_prices.yml"


@dataclass(frozen=True)
class Threshold:
    default: float
    setting: str | None = None
    kind: str = "number"  # share: a number in [0, 1]; count: a whole number >= 0; number: >= 0


THRESHOLD_KINDS = {"share": "a share in [0, 1], e.g. 0.05 for 5 %", "count": "a whole number, 0 or more",
                   "number": "a number, 0 or more"}


def threshold_value(threshold: Threshold, raw: Any, name: str) -> float:
    """A setting's value for `threshold`, checked against its kind (ConfigError naming `name`)."""
    expected = THRESHOLD_KINDS[threshold.kind]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a number: expected {expected}") from None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ConfigError(f"{name}={raw!r} is out of range: expected {expected}")
    if threshold.kind == "share" and value > 1:
        raise ConfigError(f"{name}={raw!r} is out of range: expected {expected} (1 means 100 %)")
    if threshold.kind == "count" and value != int(value):
        raise ConfigError(f"{name}={raw!r} is not whole: expected {expected}")
    return value


def threshold_settings() -> dict[str, Threshold]:
    """Every threshold a run's settings may override, by its setting name, from the rule book."""
    from glue_jobs.lake import sql_files

    doc = yaml.safe_load(sql_files.load(RULES_FILE)) or {}
    out = {}
    for section in ("batch_rules", "warning_rules"):
        for rule in doc.get(section) or []:
            for spec in (rule.get("thresholds") or {}).values():
                if spec.get("setting"):
                    out[spec["setting"]] = Threshold(float(spec["default"]), spec["setting"], spec.get("kind", "number"))
    return out
