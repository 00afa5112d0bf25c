"""Notifier interface: alerts and failures go to the console and a JSON-lines file
locally, to an SNS topic on AWS."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Alert:
    rule: str  # price_cross, daily_move, volume_spike, stale_series, run_failed, audit_blocked
    subject: str  # a short line: "AAPL moved -7.2% on 2026-11-20"
    message: str
    run_id: str
    symbol: str | None = None
    trade_date: str | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """The same rule on the same symbol and date is one alert, however often a day re-runs."""
        return f"{self.rule}|{self.symbol or '-'}|{self.trade_date or self.run_id}"

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["dedupe_key"] = self.dedupe_key
        return out


class Notifier(Protocol):
    def send(self, alerts: list[Alert]) -> None: ...
