"""Which of the quotes' history days are over (pure): a day (`dt`, the UTC day the transport
accepted a record) may be compacted only once no record can still arrive on it.

NYSE's regular session (9:30-16:00 New York, 13:00 on early closes; glue_jobs.lake.session_hours)
lies inside one UTC day in winter and summer time alike (13:30-21:00 or 14:30-21:00 UTC), so
the producer's records of a session all arrive on the UTC day of the session's date. That day is
over GRACE after the session closes; a day without a session (a weekend, a holiday) only when it
is over in UTC, since nothing scheduled writes on it and a late record (a message redriven from
the dead-letter queue) may still come. The caller also holds back every day while the
transport still holds records the consumer has not processed (their days are unknown)."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake.session_hours import session_of

# After the close: the producer's last invocation (its window ends about 70 s after its minute)
# and the consumer's batch on the last quotes; the caller's check of the queue covers any
# message still waiting or in flight, so this only needs to outlast those few minutes.
GRACE = dt.timedelta(minutes=15)


def first_open_day(now: dt.datetime) -> str:
    """The first history day (YYYY-MM-DD) that may still receive records at `now` (aware; naive
    means UTC): today's, or tomorrow's once today's session closed GRACE ago. Every day before
    it is over."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    now = now.astimezone(dt.timezone.utc)
    today = now.date()
    session = session_of(today)
    if session is not None and now >= session.close_utc + GRACE:
        return (today + dt.timedelta(days=1)).isoformat()
    return today.isoformat()
