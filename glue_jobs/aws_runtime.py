"""The AWS runtime: the same RunContext the local runner builds, on S3, Glue, Athena and SNS.

Only this module and the adapters it wires know about boto3; the stages do not."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from glue_jobs.adapters.athena_engine import AthenaEngine
from glue_jobs.adapters.glue_catalog import GlueCatalog
from glue_jobs.adapters.notifier import Alert
from glue_jobs.adapters.s3_storage import S3Storage
from glue_jobs.adapters.sns_notifier import SnsNotifier
from glue_jobs.common.lake_layout import DATABASE
from glue_jobs.common.run_context import RunContext
from glue_jobs.errors import ConfigError

log = logging.getLogger("tickerlake.aws")


class LogNotifier:
    """Where alerts go when no topic is configured (a developer running a stage by hand)."""

    def send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.warning("alert %s: %s", alert.rule, alert.subject)


def aws_context(
    *,
    run_id: str,
    as_of: dt.date,
    lake: str,
    workgroup: str,
    topic_arn: str | None = None,
    database: str = DATABASE,
    session: Any = None,
    settings: dict[str, Any] | None = None,
) -> RunContext:
    """A RunContext on AWS. `lake` is s3://bucket[/prefix]; `session` an optional boto3 Session
    (default: credentials and region from the environment, as in Glue and Lambda)."""
    if not lake.startswith("s3://"):
        raise ConfigError(f"--lake {lake!r}: on AWS the lake is an s3:// URI, e.g. s3://my-lake-bucket")
    if not workgroup:
        raise ConfigError("no Athena workgroup: pass --workgroup (the stack output AthenaWorkGroupName)")
    if session is None:
        import boto3

        session = boto3.session.Session()
    storage = S3Storage.from_uri(lake, client=session.client("s3"))
    glue = session.client("glue")
    catalog = GlueCatalog(storage.root, client=glue)
    engine = AthenaEngine(
        workgroup=workgroup, storage=storage, database=database, client=session.client("athena"), glue_client=glue
    )
    notifier = SnsNotifier(topic_arn, client=session.client("sns"), storage=storage) if topic_arn else LogNotifier()
    merged = {"runtime": "aws", "workgroup": workgroup, "database": database}
    merged.update(settings or {})
    return RunContext(
        run_id=run_id,
        as_of=as_of,
        storage=storage,
        catalog=catalog,
        engine=engine,
        notifier=notifier,
        settings=merged,
    )
