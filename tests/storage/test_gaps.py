"""The gaps worklist in the database (SQLite and PostgreSQL): nothing that identifies a person, kept as long as
cases are."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from bot.core.gaps import DAY, Gap
from bot.storage.gaps import SqlGaps
from tests.fakes import MemoryGaps


async def _worklist(gaps: SqlGaps | MemoryGaps) -> None:
    first = Gap.of("fallback", "de", "koeln", "führerschein umschreiben", 10 * DAY + 5.0, [("@uncovered", 1.7)])
    second = Gap.of("clarify", "en", "bonn", "card", 11 * DAY + 7.0, [("bank-account", 0.4), ("doctor", 0.4)])
    down = Gap.of("thumbs-down", "ar", None, "", 12 * DAY, topic="pharmacy")
    for gap in (first, second, down):
        await gaps.record(gap)
    assert await gaps.since(0.0) == [first, second, down]
    assert await gaps.since(11 * DAY) == [second, down]
    assert await gaps.since(0.0, city="koeln") == [first]
    assert await gaps.drop_older(11 * DAY) == 1
    assert await gaps.since(0.0) == [second, down]
    assert second.token is not None
    await gaps.resolve("00000000")  # another clarify's: nothing
    await gaps.resolve(second.token)  # the person chose one of its topics
    assert await gaps.since(0.0) == [down]


async def test_gaps_are_kept_by_day_and_city_and_dropped_after_the_retention(engine: Engine) -> None:
    await _worklist(SqlGaps(engine))


async def test_the_in_memory_fake_keeps_gaps_alike() -> None:
    await _worklist(MemoryGaps())


async def test_a_gap_row_holds_nothing_that_identifies_a_person(engine: Engine) -> None:
    await SqlGaps(engine).record(Gap.of("fallback", "de", "koeln", "Tel 0176 1234 5678", 100.0))
    columns = {c["name"] for c in inspect(engine).get_columns("gaps")}
    assert columns == {"id", "day", "kind", "lang", "city", "text", "topic", "candidates", "token"}
    with engine.connect() as conn:
        (row,) = conn.execute(text("SELECT day, text FROM gaps")).all()
    assert row.day == 0.0 and row.text == "Tel [number]"  # the day, not the moment; the number masked
