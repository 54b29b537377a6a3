"""Week and due dates: across month and year ends, and in Indonesia's time zones."""

from datetime import date, datetime

import pytest

from lti_tool.services import schedule


def test_weeks_cross_month_and_year_ends():
    start = date(2026, 12, 14)  # Monday
    assert schedule.block_span(start, 1) == schedule.Span(date(2026, 12, 14), date(2026, 12, 20))
    assert schedule.block_span(start, 3) == schedule.Span(date(2026, 12, 28), date(2027, 1, 3))
    assert schedule.block_span(start, 6) == schedule.Span(date(2027, 1, 18), date(2027, 1, 24))
    # PLPG phase over several weeks
    assert schedule.block_span(start, 2, weeks=4).last == date(2027, 1, 17)


def test_february_in_a_leap_year():
    assert schedule.block_span(date(2028, 2, 21), 2) == schedule.Span(
        date(2028, 2, 28), date(2028, 3, 5)
    )


def test_due_dates_default_explicit_override_personal():
    start = date(2026, 1, 26)
    assert schedule.due_date(start, 2, 1, None) == date(2026, 2, 8)  # block's last day
    assert schedule.due_date(start, 2, 1, 3) == date(2026, 2, 5)  # due_day after first day
    assert schedule.due_date(start, 2, 1, 3, override=date(2026, 2, 10)) == date(2026, 2, 10)
    assert schedule.due_date(
        start, 2, 1, 3, override=date(2026, 2, 10), personal=date(2026, 2, 12)
    ) == date(2026, 2, 12)


@pytest.mark.parametrize(
    ("tz", "utc"),
    [
        ("Asia/Jakarta", datetime(2026, 3, 31, 16, 59, 59)),  # WIB, UTC+7
        ("Asia/Makassar", datetime(2026, 3, 31, 15, 59, 59)),  # WITA, UTC+8
        ("Asia/Jayapura", datetime(2026, 3, 31, 14, 59, 59)),  # WIT, UTC+9
        ("Nowhere/Unknown", datetime(2026, 3, 31, 16, 59, 59)),  # falls back to WIB
    ],
)
def test_end_of_day_in_each_time_zone(tz, utc):
    assert schedule.end_of_day_utc(date(2026, 3, 31), tz) == utc


def test_today_depends_on_the_time_zone():
    late_utc = datetime(2026, 4, 30, 16, 30)  # 23:30 in Jakarta, 01:30 next day in Jayapura
    assert schedule.today_in("Asia/Jakarta", late_utc) == date(2026, 4, 30)
    assert schedule.today_in("Asia/Jayapura", late_utc) == date(2026, 5, 1)


def test_current_week():
    start = date(2026, 5, 4)
    assert schedule.current_week(start, date(2026, 5, 3)) is None
    assert schedule.current_week(start, date(2026, 5, 4)) == 1
    assert schedule.current_week(start, date(2026, 5, 10)) == 1
    assert schedule.current_week(start, date(2026, 5, 11)) == 2
