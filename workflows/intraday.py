"""Wires the intraday processor (glue_jobs.intraday) to a runtime's adapters, for the CLI's
`tickerlake stream ...` and the consumer Lambda: the `quotes` table, the notifier, the alert
thresholds of sql/alerts/alerts.yml and the batch alerts' sent markers, and, on a local lake,
the history writer (on AWS Firehose writes the history of a Kinesis stream; of an SQS FIFO
queue, which Firehose cannot read, the consumer Lambda writes it: `history=True`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glue_jobs.after.alerts import load_config, sent
from glue_jobs.intraday import Processor, ProcessorSettings
from glue_jobs.intraday.history import HistoryWriter
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.notifier import Alert
from glue_jobs.ports.storage import Storage
from glue_jobs.runtime import Runtime

ENV_WINDOW = "TICKERLAKE_QUOTES_WINDOW"
ENV_TTL = "TICKERLAKE_QUOTES_TTL_SECONDS"


@dataclass
class LakeSentLedger:
    """The batch alerts' dedupe record (alerts/sent/ markers, alerts.jsonl) on one lake."""
    storage: Storage

    def unsent(self, alerts: list[Alert]) -> list[Alert]:
        return sent.unsent(self.storage, alerts)

    def mark_sent(self, alerts: list[Alert]) -> None:
        sent.mark_sent(self.storage, alerts)


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r}: not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value}: must be at least {minimum}")
    return value


def processor_settings(env: Mapping[str, str]) -> ProcessorSettings:
    return ProcessorSettings(window=_whole(env, ENV_WINDOW, 20, 1), ttl_seconds=_whole(env, ENV_TTL, 2 * 24 * 3600, 60))


def open_processor(runtime: Runtime, *, env: Mapping[str, str], settings: Mapping[str, Any] | None = None,
                   run_id: str = "intraday", history: bool | None = None, **options: Any) -> Processor:
    """The processor on `runtime`'s adapters; `options` go to Processor (a test's clock).
    `history`: whether it writes the quotes' history (None: on a local lake only)."""
    local = runtime.kind == "local"
    writer = None
    if history if history is not None else local:
        # on AWS Lambda containers share the history, and (SQS FIFO) the writer registers each day it writes as a partition: the
        # table is not projected there, so `stream compact` can switch a day to merged files
        writer = HistoryWriter(runtime.storage, runtime.catalog) if local else \
            HistoryWriter(runtime.storage, runtime.catalog, shared=True)
    processor = Processor(storage=runtime.storage, quotes=runtime.quotes, notifier=runtime.notifier,
                          sent=LakeSentLedger(runtime.storage), thresholds=load_config(settings, env),
                          history=writer, settings=processor_settings(env), run_id=run_id, **options)
    processor.warm()
    return processor
