"""Week dates and due dates of a course instance (pure functions, no Flask).

Week n of a module starting on date S runs from S + 7(n-1) to S + 7(n-1) + 6 (a
block of several weeks runs to the last day of its last week). An activity is due
at the end of its day (23:59:59) in the instance's time zone: the block's last day
by default, `due_day` days after the block's first day when the template says so,
or an override (for everyone, or for one peserta, which wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Jakarta"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


@dataclass(frozen=True)
class Span:
    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def block_span(start: date, week: int, weeks: int = 1) -> Span:
    first = start + timedelta(days=7 * (week - 1))
    return Span(first, first + timedelta(days=7 * weeks - 1))


def due_date(
    start: date,
    week: int,
    weeks: int,
    due_day: int | None,
    override: date | None = None,
    personal: date | None = None,
) -> date:
    """The day an activity is due (the peserta's own override first)."""
    if personal is not None:
        return personal
    if override is not None:
        return override
    span = block_span(start, week, weeks)
    if due_day is not None:
        return span.first + timedelta(days=due_day)
    return span.last


def end_of_day_utc(day: date, tz: str | None) -> datetime:
    """The last second of `day` in time zone `tz`, as a naive UTC datetime."""
    local = datetime.combine(day, time(23, 59, 59), tzinfo=zone(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def today_in(tz: str | None, now: datetime | None = None) -> date:
    """Today's date in `tz` (now: naive UTC, default the current time)."""
    moment = (now or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC)
    return moment.astimezone(zone(tz)).date()


def current_week(start: date, today: date) -> int | None:
    """The module week `today` falls in (1-based), or None before the start."""
    if today < start:
        return None
    return (today - start).days // 7 + 1
