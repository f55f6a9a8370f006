"""Texts of the handoff that do not depend on a ticket's flow: office hours, dates, durations."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time, get_day_names

from bot.core.centres import Centre
from bot.core.model import DAYS


def office_hours_text(centre: Centre, lang: str) -> str:
    """Office hours with day names in ``lang``, consecutive days with the same hours joined: "Mo.–Mi. 09:00-16:00"."""
    names = get_day_names("abbreviated", locale=lang)
    groups: list[tuple[int, int, str]] = []
    for index, day in enumerate(DAYS):
        hours = centre.hours.get(day)  # type: ignore[call-overload]
        if not hours:
            continue
        if groups and groups[-1][2] == hours and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, hours)
        else:
            groups.append((index, index, hours))
    parts = []
    for first, last, hours in groups:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        parts.append(f"{days} {hours.replace(',', ', ')}")
    return "; ".join(parts)


def when_text(moment: datetime, lang: str) -> str:
    """A date and time as people read them in ``lang`` ("Montag, 23. November 2026, 09:00")."""
    return f"{format_date(moment, 'full', locale=lang)}, {format_time(moment, 'short', locale=lang)}"


def duration(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} Tagen"
