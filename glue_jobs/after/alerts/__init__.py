"""Alerts raised after publish: price crossing a level, a daily move beyond N %, a volume
spike, a stale series. Rules are pure (rules.py), thresholds come from configuration
(config.py, sql/alerts/alerts.yml), and step.py queries, sends and records them."""
from __future__ import annotations

from glue_jobs.after.alerts.config import AlertConfig, load_config
from glue_jobs.after.alerts.hook import raise_alerts

__all__ = ["AlertConfig", "load_config", "raise_alerts"]
