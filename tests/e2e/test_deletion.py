"""Deletion means deletion: after /delete and after the retention period neither the database files nor the staff
group's history hold the person's name or words (searched byte for byte and message by message)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from bot.core.dialogue import Dialogue
from bot.telegram.sending import placeholder_png
from tests.e2e.conftest import STAFF_GROUP, Lotse, Options, centres, running
from tests.e2e.fake_telegram import Sent
from tests.e2e.test_handoff import eventually, open_case, ready

PLAIN_GROUP = -1001000000042  # a supergroup without topics: cards and relayed messages stay in its history
DAY = 86400.0


def visible(lotse: Lotse, chat_id: int) -> list[Sent]:
    return [s for s in lotse.server.to(chat_id) if not s.deleted]


def traces(lotse: Lotse, chat_id: int, secrets: tuple[str, ...]) -> list[str]:
    """Every place a secret is still readable: the group's messages, the SQLite file and its write-ahead log."""
    found = [f"group: {s.text[:40]!r}" for s in visible(lotse, chat_id) for x in secrets if x in s.text]
    database = Path(lotse.db_url.removeprefix("sqlite:///"))
    for file in (database, database.with_name(database.name + "-wal")):
        content = file.read_bytes() if file.exists() else b""
        found += [f"{file.name}: {x}" for x in secrets if x.encode() in content]
    return found


async def erased(lotse: Lotse, chat_id: int, secrets: tuple[str, ...]) -> None:
    """Wait until no secret is readable anywhere; else fail with where they still are."""
    try:
        await eventually(lambda: not traces(lotse, chat_id, secrets))
    except AssertionError:
        calls = [(m, p.get("message_id")) for m, p in lotse.server.calls if m.startswith(("delete", "edit"))]
        assert traces(lotse, chat_id, secrets) == [], calls


async def test_delete_in_a_group_without_topics_redacts_what_telegram_no_longer_deletes(
    tmp_path: Path, dialogue: Dialogue
) -> None:
    name, question, later = "Shirin-Qz", "Frage zum Kindergeld Qz4", "Meine Steuer-ID ist 5550123"
    async with running(tmp_path, dialogue, Options(centres=centres(chat_id=PLAIN_GROUP))) as lotse:
        lotse.server.groups.add(PLAIN_GROUP)
        # Nine steps within a second or two, faster than a person: the flood gate (its burst is 8, tested in
        # test_asking) would drop the last one.
        lotse.stores.burst = 12.0
        user = await ready(lotse, 531, "de", name=name)
        card = await open_case(lotse, user, question, PLAIN_GROUP)
        assert card.chat_id == PLAIN_GROUP and question in card.text and name in card.text
        user.push_text(later)
        await eventually(lambda: any("5550123" in s.text for s in visible(lotse, PLAIN_GROUP)))
        photo = [{"file_id": "passport-Qz", "file_unique_id": "passport-Qz", "width": 9, "height": 9}]
        await user.send_content(expect=0, photo=photo, caption="mein Pass Qz")
        await eventually(lambda: any(s.file_id == "passport-Qz" for s in visible(lotse, PLAIN_GROUP)))
        lotse.server.delete_window = 0.0  # as after 48 hours: Telegram refuses to delete the relayed message
        await user.send("/delete")
        await user.tap("del:yes")
        await eventually(lambda: any("/delete" in s.text for s in visible(lotse, PLAIN_GROUP)))
        await erased(lotse, PLAIN_GROUP, (name, question, later, "5550123", "Pass Qz"))
        assert not any(s.file_id == "passport-Qz" for s in visible(lotse, PLAIN_GROUP))  # the photo was replaced
        assert "Die Person hat ihre Daten gelöscht" in card.text  # the card, rewritten
        assert any(s.text == "🗑 (gelöscht)" for s in visible(lotse, PLAIN_GROUP))  # the copy, overwritten


async def test_retention_closes_and_erases_a_case_left_open_and_tells_both_sides(desk: Lotse) -> None:
    name, question, later = "Farid-Qy", "Frage zur Anmeldung Qy2", "Ich wohne jetzt in der Qy-Straße 9"
    user = await ready(desk, 532, "en", name=name)
    card = await open_case(desk, user, question)
    user.push_text(later)
    await eventually(lambda: any("Qy-Straße" in s.text for s in visible(desk, STAFF_GROUP)))
    handoff = desk.app.bot_data["lotse"].handoff
    now = desk.app.bot_data["lotse"].clock()
    counts = await handoff.purge(now + 91 * DAY)  # 91 days later: longer open than the retention period (90)
    assert counts["open_cases"] == 1 and counts["tickets"] == 1
    (told,) = await user._replies(1)
    assert "90 days" in told.text and "/human" in told.text
    await eventually(lambda: any("länger als 90 Tage offen" in s.text for s in visible(desk, STAFF_GROUP)))
    await erased(desk, STAFF_GROUP, (name, question, later))
    assert card.thread_id not in desk.server.topics[STAFF_GROUP]
    assert await desk.tickets.active(532) is None
    (answer,) = await user.send("where can i find a doctor")  # the person talks to Lotse again, not to a closed case
    assert "doctor" in answer.text.lower()


async def test_retention_erases_closed_cases_once(desk: Lotse) -> None:
    user = await ready(desk, 533, "de", name="Nadia-Qw")
    await open_case(desk, user, "Frage zum Deutschkurs Qw1")
    await user.send("/end")
    handoff = desk.app.bot_data["lotse"].handoff
    now = desk.app.bot_data["lotse"].clock()
    assert (await handoff.purge(now + 10 * DAY))["tickets"] == 0  # within the retention period: kept
    first = await handoff.purge(now + 91 * DAY)
    assert first["tickets"] == 1 and first["open_cases"] == 0
    await eventually(lambda: any("nach 90 Tagen gelöscht" in s.text for s in visible(desk, STAFF_GROUP)))
    await erased(desk, STAFF_GROUP, ("Nadia-Qw", "Deutschkurs Qw1"))
    assert (await handoff.purge(now + 92 * DAY))["tickets"] == 0  # nothing twice
    assert len(desk.server.to(533)) == user.seen  # a closed case: the person is not told


def test_the_placeholder_picture_is_a_valid_png() -> None:
    data = placeholder_png()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks[kind] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, colour) == (64, 64, 8, 0)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (width + 1)
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
