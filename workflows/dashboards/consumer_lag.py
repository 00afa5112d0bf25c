"""The dashboard's intraday consumer lag, in the "Intraday" section of the local page: per
shard of the lake's stream log, the newest sequence, the consumer's checkpoint, how many
records are behind it and the age of the oldest of them (`tickerlake stream status`).

Not an Athena panel: the checkpoints live in the stream log (locally) or with the event source
mapping (on AWS, where the same lag is the consumer's IteratorAge metric and its alarm,
ConsumerIteratorAgeAlarm), neither of which Athena can query. A failure to read it shows in
its place; the page is still written."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows.dashboards.formatting import esc

log = logging.getLogger(__name__)

SECTION = "Intraday"
PANEL_ID = "consumer_lag"


@dataclass
class ConsumerLag:
    shards: list[dict[str, Any]] = field(default_factory=list)  # stream_consumer_commands.shard_status
    error: str | None = None
    absent: str | None = None


def collect(compute: Callable[[], list[dict[str, Any]]] | None, absent: str | None = None) -> ConsumerLag:
    if compute is None:
        return ConsumerLag(absent=absent or "no stream log in this lake yet")
    try:
        return ConsumerLag(shards=compute())
    except Exception as exc:  # the dashboard shows what it can; this panel says why it cannot
        log.warning("consumer lag failed: %s", exc, exc_info=True)
        return ConsumerLag(error=f"{type(exc).__name__}: {exc}")


def _stat(value: str, label: str, color: str = "") -> str:
    cls = f" c-{color}" if color else ""
    return f'<div class="stat"><div class="v{cls}">{esc(value)}</div><div class="k">{esc(label)}</div></div>'


def panel_html(lag: ConsumerLag) -> str:
    head = (f'<section class="panel" data-panel-id="{PANEL_ID}" data-panel-type="stat" style="grid-column:span 24">'
            "<h3>Stream consumer lag</h3><p class=\"desc\">Records on the stream the consumer has not processed, "
            "per shard, and the age of the oldest (tickerlake stream status).</p>")
    if lag.error:
        return head + f'<div class="error">consumer lag could not be read:\n{esc(lag.error)}</div></section>'
    if lag.absent or not lag.shards:
        return head + f'<div class="empty">{esc(lag.absent or "no shards")}</div></section>'
    behind = sum(s["lag_records"] or 0 for s in lag.shards)
    oldest = max(s["lag_ms"] for s in lag.shards) / 1000
    tiles = [_stat("caught up" if behind == 0 else f"{behind:,} behind", "records not yet processed",
                   "green" if behind == 0 else "red"),
             _stat(f"{oldest:,.1f} s", "age of the oldest unprocessed record", "green" if behind == 0 else "orange")]
    rows = "".join(f"<tr><td>{esc(s['shard'])}</td><td>{esc(s['last_sequence'] or '-')}</td>"
                   f"<td>{esc(s['checkpoint'] or '-')}</td><td>{esc(s['lag_records'])}</td>"
                   f"<td>{s['lag_ms'] / 1000:,.1f} s</td></tr>" for s in lag.shards)
    return (head + f'<div class="stats">{"".join(tiles)}</div>'
            '<div class="tablewrap"><table><thead><tr><th>Shard</th><th>Last sequence</th><th>Checkpoint</th>'
            f"<th>Records behind</th><th>Oldest behind</th></tr></thead><tbody>{rows}</tbody></table></div></section>")
