"""What every stage receives: the run's identity and the runtime's adapters."""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from glue_jobs.ports.catalog import Catalog
from glue_jobs.ports.engine import Engine
from glue_jobs.ports.notifier import Notifier
from glue_jobs.ports.storage import Storage


def _log_line(line: str) -> None:
    logging.getLogger("tickerlake.progress").info(line.strip())


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable by start time, unique across concurrent starts: 20261120T220001Z-3f9a1c."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass
class RunContext:
    run_id: str
    as_of: dt.date
    storage: Storage
    catalog: Catalog
    engine: Engine
    notifier: Notifier
    settings: dict[str, Any] = field(default_factory=dict)
    # Where a long stage reports progress (the terminal for the CLI, the log in Glue/Lambda).
    say: Callable[[str], None] = field(default=_log_line, repr=False)
    # Opens the serving table on first use (a SQLite file locally, DynamoDB on AWS); None where
    # the runtime has none (an s3 lake without TICKERLAKE_SERVING_TABLE).
    serving_factory: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def serving(self) -> Any:
        """The serving table (glue_jobs.ports.serving.ServingTable), opened once."""
        return open_serving_once(self, self.serving_factory, "this lake")

    # Opens a queue by name (glue_jobs.ports.queue.Queue): the local lake's SQLite queues; None
    # on AWS, where S3 -> EventBridge -> SQS carries the events and no stage drains a queue.
    queue_factory: Callable[[str], Any] | None = field(default=None, repr=False)
    # The local runtime's Great Expectations worker process (glue_jobs/audit/ge_worker.py), which
    # the runner starts when a run that audits starts; None: the audit builds GE in place (Glue).
    ge_worker: Any = field(default=None, repr=False)


def open_serving_once(holder: Any, factory: Callable[[], Any] | None, lake: str) -> Any:
    """`holder`'s serving table, opened by `factory` on first use and kept in the holder (a
    Runtime or a RunContext); a ConfigError naming what is missing when there is none."""
    opened = serving_if_opened(holder)
    if opened is None:
        if factory is None:
            from glue_jobs.lake.errors import ConfigError

            raise ConfigError(f"{lake} has no serving table: on AWS set TICKERLAKE_SERVING_TABLE "
                              "(the stack output ServingTableName)")
        opened = holder.__dict__["_serving"] = factory()
    return opened


def serving_if_opened(holder: Any) -> Any:
    """`holder`'s serving table if something has opened it (open_serving_once), else None:
    for what only concerns a table that was used, without opening one."""
    return holder.__dict__.get("_serving")
