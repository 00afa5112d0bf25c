"""The sent markers of a day's alerts, written concurrently: every alert gets its marker, a
marker already there is fine, and a marker that cannot be written stops the step."""
from __future__ import annotations

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.after.alerts import sent
from glue_jobs.lake import layout
from glue_jobs.ports.notifier import Alert
from glue_jobs.ports.storage import StorageError


def _alerts(count: int) -> list[Alert]:
    return [Alert(rule="daily_move", symbol=f"S{n:03d}", trade_date="2026-11-20", subject=f"S{n:03d} moved",
                  message="", run_id="run-1") for n in range(count)]


def test_a_day_of_alerts_leaves_every_marker_and_none_is_unsent_after(tmp_path):
    storage = LocalStorage(tmp_path)
    alerts = _alerts(45)
    storage.put_bytes(layout.sent_marker_key(alerts[7].dedupe_key), b"{}")  # a concurrent sender's
    sent.mark_sent(storage, alerts)
    assert all(storage.exists(layout.sent_marker_key(a.dedupe_key)) for a in alerts)
    assert sent.unsent(storage, alerts) == []


class FailingOne(LocalStorage):
    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False) -> None:
        if b"S013" in data:
            raise StorageError(f"disk full writing {key}")
        super().put_bytes(key, data, create_only=create_only)


def test_a_marker_that_cannot_be_written_is_raised_and_the_others_are_kept(tmp_path):
    storage = FailingOne(tmp_path)
    alerts = _alerts(30)
    with pytest.raises(StorageError, match="disk full"):
        sent.mark_sent(storage, alerts)
    # the next run sends only the one whose marker is missing
    assert [a.symbol for a in sent.unsent(storage, alerts)] == ["S013"]
