"""Where alerts go on an s3 lake with no SNS topic configured (a stage run by hand): a
warning line per alert in the log (CloudWatch, inside Glue)."""
from __future__ import annotations

import logging

from glue_jobs.ports.notifier import Alert

log = logging.getLogger("tickerlake.alerts")


class LogNotifier:
    def send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.warning("alert %s: %s", alert.rule, alert.subject)
