"""Dashboard constants: values the panels' SQL takes from the lake's configuration, not from a
query. `${anomaly_percent:raw}` is the alerts' daily_move.percent (sql/alerts/alerts.yml), so
the intraday panel marks the quotes the consumer flags. The local page binds it from the
configuration the local consumer reads (TICKERLAKE_ALERTS_FILE included); the Grafana generator
writes it into the dashboard as a hidden constant variable from the shipped alerts.yml, which is
what the consumer Lambda reads (its bundle carries that file; the stack sets no alerts file)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from glue_jobs.after.alerts import load_config
from glue_jobs.lake.errors import ConfigError

ANOMALY_PERCENT = "anomaly_percent"


def _number(value: float) -> str:
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"alerts daily_move.percent is {value!r}: the dashboard needs a number of 0 or more")
    return repr(float(value))  # a Trino/DuckDB double literal, whole digits kept


def values(env: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The constants as the local renderer's variables ({name: [value]})."""
    return {ANOMALY_PERCENT: [_number(load_config(None, env).daily_move_percent)]}


def grafana_variables() -> list[dict[str, Any]]:
    """Hidden constant variables of the shipped configuration (no environment: the committed
    dashboard JSON must not depend on who generated it)."""
    out = []
    for name, (value,) in values(env={}).items():
        out.append({"name": name, "type": "constant", "query": value, "hide": 2,
                    "current": {"text": value, "value": value},
                    "options": [{"selected": True, "text": value, "value": value}]})
    return out
