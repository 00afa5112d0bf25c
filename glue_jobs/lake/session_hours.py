"""NYSE regular trading hours (pure): 9:30 to 16:00 in New York on a session
(trading_calendar.is_session), 13:00 on the early closes the exchange keeps every year: the
day before Independence Day, the day after Thanksgiving and Christmas Eve, when they are
sessions. (The NYSE announces the rare others, e.g. a national day of mourning, as a full
closure: the holidays package has those.) Used by the intraday producer, which only polls
while a session is open."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from glue_jobs.lake.trading_calendar import NEW_YORK, is_session

OPEN_TIME = dt.time(9, 30)
CLOSE_TIME = dt.time(16, 0)
EARLY_CLOSE_TIME = dt.time(13, 0)


@dataclass(frozen=True)
class Session:
    day: dt.date
    open_utc: dt.datetime
    close_utc: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.close_utc - self.open_utc).total_seconds()

    @property
    def early_close(self) -> bool:
        return self.close_utc.astimezone(NEW_YORK).time() != CLOSE_TIME


def is_early_close(day: dt.date) -> bool:
    if not is_session(day):
        return False
    if (day.month, day.day) in ((7, 3), (12, 24)):
        return True
    # Thanksgiving: the fourth Thursday of November; the Friday after closes early
    if day.month == 11 and day.weekday() == 4:
        thursday = day - dt.timedelta(days=1)
        return 22 <= thursday.day <= 28
    return False


def session_of(day: dt.date) -> Session | None:
    """The day's regular hours in UTC, None when the exchange is closed all day."""
    if not is_session(day):
        return None
    close = EARLY_CLOSE_TIME if is_early_close(day) else CLOSE_TIME
    return Session(day, _utc(day, OPEN_TIME), _utc(day, close))


def open_session(now: dt.datetime) -> Session | None:
    """The session open at `now` (aware; naive means UTC), None outside regular hours."""
    now = _aware(now)
    session = session_of(now.astimezone(NEW_YORK).date())
    if session is not None and session.open_utc <= now < session.close_utc:
        return session
    return None


def next_session(now: dt.datetime) -> Session:
    """The session open at `now`, else the next one to open."""
    now = _aware(now)
    day = now.astimezone(NEW_YORK).date()
    for _ in range(30):  # no NYSE closure has lasted a fortnight since 2001's four days
        session = session_of(day)
        if session is not None and now < session.close_utc:
            return session
        day += dt.timedelta(days=1)
    raise RuntimeError(f"no NYSE session within 30 days of {now.isoformat()}")


def latest_session(now: dt.datetime) -> Session:
    """The session open at `now`, else the last one that opened before it (the synthetic
    producer's simulated day, so it works at any hour)."""
    now = _aware(now)
    day = now.astimezone(NEW_YORK).date()
    while True:
        session = session_of(day)
        if session is not None and session.open_utc <= now:
            return session
        day -= dt.timedelta(days=1)


def _utc(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(dt.timezone.utc)


def _aware(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.timezone.utc)
