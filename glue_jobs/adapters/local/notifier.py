"""Alerts on the local runtime: a log line each, and a JSON line appended to
layout.ALERTS_KEY. An alert whose dedupe key was already sent is skipped, so re-running
a day does not alert twice."""
from __future__ import annotations

import json
import logging

from glue_jobs.lake import layout
from glue_jobs.ports.notifier import Alert
from glue_jobs.ports.storage import NotFound, Storage

log = logging.getLogger("tickerlake.alerts")


class LocalNotifier:
    def __init__(self, storage: Storage, key: str = layout.ALERTS_KEY):
        self.storage = storage
        self.key = key

    def _existing(self) -> bytes:
        try:
            return self.storage.get_bytes(self.key)
        except NotFound:
            return b""

    def sent_keys(self) -> set[str]:
        keys = set()
        for line in self._existing().splitlines():
            try:
                keys.add(json.loads(line)["dedupe_key"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn or foreign line must not stop alerting
        return keys

    def send(self, alerts: list[Alert]) -> None:
        """Log and record each alert not sent before."""
        existing = self._existing()
        sent = self.sent_keys() if existing else set()
        lines = []
        for alert in alerts:
            if alert.dedupe_key in sent:
                log.info("alert already sent, skipped: %s", alert.subject)
                continue
            sent.add(alert.dedupe_key)
            log.warning("ALERT [%s] %s", alert.rule, alert.subject)
            lines.append(json.dumps(alert.to_dict(), sort_keys=True, default=str).encode() + b"\n")
        if lines:
            if existing and not existing.endswith(b"\n"):
                existing += b"\n"
            # Storage has no append; the whole file is rewritten atomically (alerts are few).
            self.storage.put_bytes(self.key, existing + b"".join(lines))
