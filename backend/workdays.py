"""Working-day arithmetic in Asia/Shanghai, with the State Council's moved days configurable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class WorkCalendar:
    """Weekdays are working days, except listed holidays; listed make-up days work too (调休)."""

    def __init__(self, *, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)

    @classmethod
    def parse(cls, holidays: str, workdays: str) -> WorkCalendar:
        """From comma-separated ISO dates (YIMEN_HOLIDAYS, YIMEN_MAKEUP_WORKDAYS)."""

        def dates(text: str) -> list[date]:
            return [date.fromisoformat(p.strip()) for p in text.split(",") if p.strip()]

        return cls(holidays=dates(holidays), workdays=dates(workdays))

    def is_working_day(self, day: date) -> bool:
        """Whether the window is open that day."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the working day `days` working days after start (local 17:30, as UTC)."""
        local = start.astimezone(SHANGHAI).date()
        counted = 0
        while counted < days:
            local += timedelta(days=1)
            if self.is_working_day(local):
                counted += 1
        return datetime.combine(local, time(17, 30), SHANGHAI)

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days from today until a deadline's day; negative once that day has passed.

        Today is not counted: due at the end of the next working day is 1; due today is 0 (the
        last day: past 17:30 it is overdue, `now > due`, though still 0); a deadline whose day
        was two working days ago is -2, and any day after the deadline's day is at most -1.
        """
        today = now.astimezone(SHANGHAI).date()
        last = due.astimezone(SHANGHAI).date()
        low, high, sign = (today, last, 1) if last >= today else (last, today, -1)
        counted, day = 0, low
        while day < high:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        # Past the day, at least one: "today" is only the deadline's own day, not the weekend
        # or holiday after it.
        return counted if sign > 0 else -max(counted, 1)
