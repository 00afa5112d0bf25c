"""A clock tests move by hand: pass .now as the clock and .sleep as the sleep."""
from __future__ import annotations

import threading


class FakeClock:
    def __init__(self, start: float = 1_795_000_000.0):  # 2026-11-18, a weekday
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    __call__ = now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"negative sleep {seconds}")
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
