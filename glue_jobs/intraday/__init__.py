"""The intraday processor (issue 14): screen, enrich, alert, serve and keep the history of the
quotes on the stream. Pure rules in screen/enrich/alert_rules, effects in processor, the local
consumer's loop in consume, the lake's history in history."""
from __future__ import annotations

from glue_jobs.intraday.consume import Consumer, ConsumeResult
from glue_jobs.intraday.processor import BatchResult, Processor, ProcessorSettings

__all__ = ["BatchResult", "ConsumeResult", "Consumer", "Processor", "ProcessorSettings"]
