"""The token-bucket interface: one key's call limits (per minute and per day) shared by every
worker that calls with it. DynamoDB on AWS (glue_jobs/adapters/aws/token_bucket_dynamodb.py),
SQLite locally (glue_jobs/adapters/local/token_bucket_sqlite.py); the arithmetic both apply is
glue_jobs/lake/token_bucket_math.py.

What callers may rely on, on both:
- acquire() is atomic: it reads the bucket, decides and writes back in one conditional step,
  so two workers never spend the same token; it answers a grant or how long to wait, never sleeps;
- grants are at least 60 / calls_per_minute seconds apart (and min_interval_s), so no 60 s window
  ever holds more than calls_per_minute grants, whatever the number of workers;
- at most calls_per_day grants per quota day (a UTC day), and none after exhaust_day() on that day;
- back_off() holds every worker back, not only the caller (the server said the key went too fast).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

GRANTED = "granted"
PER_MINUTE = "per_minute"  # the next token is not there yet
BACK_OFF = "back_off"  # a worker was told by the server to slow down
DAILY_QUOTA = "daily_quota"  # the day's calls are spent: the wait runs to the next quota day


@dataclass(frozen=True)
class Limits:
    """None means unlimited. `window_s` is 60 for a real key; tests shrink it."""

    calls_per_minute: int | None
    calls_per_day: int | None
    min_interval_s: float = 0.0
    window_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("calls_per_minute", "calls_per_day"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 or None, got {value}")
        if self.min_interval_s < 0 or self.window_s <= 0:
            raise ValueError(f"min_interval_s {self.min_interval_s} and window_s {self.window_s} must be >= 0 and > 0")


@dataclass(frozen=True)
class BucketState:
    """What the bucket stores: one row (SQLite) or one item (DynamoDB) per bucket name."""

    next_at: float = -math.inf  # the earliest time the next token may be granted
    day: str = ""  # the quota day `used` counts
    used: int = 0  # tokens granted on `day`
    spent: bool = False  # the server said the day's quota is gone, whatever `used` says
    version: int = 0  # bumped by every write: the condition of the next one


@dataclass(frozen=True)
class Decision:
    granted: bool
    wait_s: float  # 0 when granted
    reason: str  # GRANTED | PER_MINUTE | BACK_OFF | DAILY_QUOTA
    at: float  # the time the decision was made for
    state: BucketState = field(repr=False, default_factory=BucketState)  # the bucket after it


class TokenBucket(Protocol):
    name: str
    limits: Limits

    def acquire(self) -> Decision:
        """Take a token now if there is one (atomically), else say how long to wait."""

    def back_off(self, seconds: float) -> None:
        """No token for anyone before now + seconds."""

    def exhaust_day(self) -> None:
        """No token for anyone until the next quota day."""

    def state(self) -> BucketState:
        """The bucket as stored (a fresh one when nothing was ever granted)."""
