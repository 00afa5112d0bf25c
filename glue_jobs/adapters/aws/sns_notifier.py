"""Alerts to an SNS topic (e-mail, chat or a queue subscribe to it).

A day can be re-run; subscribers should still get each alert once. With a `storage`, a
marker per alert's dedupe key is written after publishing, and an alert whose marker exists
is skipped. Publishing first means a crash in between repeats an alert rather than losing it."""
from __future__ import annotations

import json
from typing import Any

from glue_jobs.lake import layout
from glue_jobs.ports.notifier import Alert
from glue_jobs.ports.storage import AlreadyExists, Storage

SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def sns_subject(text: str) -> str:
    """SNS subjects must be ASCII, without line breaks, at most 100 characters."""
    flat = " ".join(text.split())
    ascii_only = flat.encode("ascii", "replace").decode("ascii")
    if len(ascii_only) <= SUBJECT_LIMIT:
        return ascii_only or "tickerlake alert"
    return ascii_only[: SUBJECT_LIMIT - 3].rstrip() + "..."


def sns_message(alert: Alert) -> str:
    """A readable first paragraph for e-mail, then the alert as JSON for machines."""
    return f"{alert.message}\n\n{json.dumps(alert.to_dict(), indent=2, sort_keys=True, default=str)}\n"


class SnsNotifier:
    """Publish each alert to `topic_arn`. `client` is an optional boto3 SNS client;
    `storage` (the lake) enables once-only delivery across re-runs."""

    def __init__(self, topic_arn: str, *, client: Any = None, storage: Storage | None = None):
        if client is None:
            import boto3

            client = boto3.client("sns")
        self.client = client
        self.topic_arn = topic_arn
        self.storage = storage

    def send(self, alerts: list[Alert]) -> None:
        seen: set[str] = set()
        for alert in alerts:
            if alert.dedupe_key in seen:
                continue
            seen.add(alert.dedupe_key)
            marker = layout.sent_marker_key(alert.dedupe_key)
            if self.storage is not None and self.storage.exists(marker):
                continue
            attributes = {
                "rule": {"DataType": "String", "StringValue": alert.rule},
                "run_id": {"DataType": "String", "StringValue": alert.run_id},
            }
            if alert.symbol:
                attributes["symbol"] = {"DataType": "String", "StringValue": alert.symbol}
            self.client.publish(
                TopicArn=self.topic_arn,
                Subject=sns_subject(alert.subject),
                Message=sns_message(alert),
                MessageAttributes=attributes,
            )
            if self.storage is not None:
                self._mark_sent(marker, alert)

    def _mark_sent(self, marker: str, alert: Alert) -> None:
        try:
            self.storage.put_bytes(  # type: ignore[union-attr]
                marker,
                json.dumps({"dedupe_key": alert.dedupe_key, "run_id": alert.run_id}).encode(),
                create_only=True,
            )
        except AlreadyExists:
            pass
