"""Handoff end to end: a person, the staff forum supergroup, consent, relay both ways, lifecycle, privacy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bot.core.i18n import translator
from bot.storage.tables import OutboxRow, TicketRow
from tests.e2e.conftest import STAFF_GROUP, Lotse
from tests.e2e.fake_telegram import FakeUser, Sent


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def group(lotse: Lotse, chat_id: int = STAFF_GROUP) -> list[Sent]:
    return [s for s in lotse.server.to(chat_id) if not s.deleted]


async def ready(lotse: Lotse, user_id: int, lang: str, name: str = "Amal", city: str = "city:koeln") -> FakeUser:
    user = lotse.user(user_id, language_code=lang, first_name=name)
    await user.send("/start", expect=3)
    await user.tap(city, expect=3)
    return user


async def open_case(lotse: Lotse, user: FakeUser, question: str, chat_id: int = STAFF_GROUP) -> Sent:
    """/human, the question, consent: returns the ticket message (card) in the staff group."""
    before = len(group(lotse, chat_id))
    await user.send("/human")
    (consent,) = await user.send(question)
    assert any(data and data.startswith("ho:yes:") for _, data in consent.buttons), consent.buttons
    await user.tap("ho:yes:" + consent.buttons[0][1].split(":")[2])  # type: ignore[union-attr]
    await eventually(lambda: len(group(lotse, chat_id)) > before)
    return group(lotse, chat_id)[before]


async def test_consent_given_opens_a_topic_with_the_ticket(desk: Lotse) -> None:
    user = await ready(desk, 501, "ar")
    ar = translator("ar")
    (prompt,) = await user.send("/human")
    assert prompt.text.startswith(ar.gettext("Talk to a person"))
    (consent,) = await user.send("عندي رسالة من الجوب سنتر ولا أفهمها")
    text = consent.text
    assert text.startswith(ar.gettext("Before I send it"))
    assert "Kommunales Integrationszentrum Köln" in text
    assert "Amal" in text and "عندي رسالة من الجوب سنتر" in text
    assert ar.gettext("Your phone number and your Telegram username are not shared.") in text
    assert ar.gettext("The office is open now.") in text
    assert not group(desk), "nothing goes to the staff before consent"
    yes = next(label for label, data in consent.buttons if data and data.startswith("ho:yes:"))
    (sent,) = await user.tap(yes)
    ticket = await desk.tickets.active(501)
    assert ticket is not None
    assert ticket.case in sent.text
    await eventually(lambda: len(group(desk)) == 1)
    card = group(desk)[0]
    topics = desk.server.topics[STAFF_GROUP]
    assert card.thread_id in topics
    assert topics[card.thread_id]["name"] == f"#{ticket.case} · ar · Köln"
    assert f"Fall #{ticket.case}" in card.text
    assert "Amal" in card.text and "العربية (ar)" in card.text and "Stadt: Köln" in card.text
    decision = desk.dialogue.decide("عندي رسالة من الجوب سنتر ولا أفهمها", "ar", "koeln")
    assert f"({decision.candidates[0]})" in card.text  # the matched topic candidates, for the staff
    assert [label for label, _ in card.buttons] == ["✋ Übernehmen", "🚨 Dringend", "✅ Schließen"]


async def test_consent_refused_sends_nothing(desk: Lotse) -> None:
    user = await ready(desk, 502, "de")
    await user.send("/human")
    (consent,) = await user.send("Ich brauche Hilfe mit einem Brief")
    (refused,) = await user.tap("ho:no:" + consent.buttons[-1][1].split(":")[2])  # type: ignore[union-attr]
    assert refused.text == translator("de").gettext("Nothing was sent. You can ask me something else or open the menu.")
    await desk.server.settle()  # the outbox included
    assert not group(desk)
    assert await desk.tickets.active(502) is None
    # The next message is a question to Lotse again, not a request.
    (answer,) = await user.send("wo kann ich deutsch lernen")
    assert answer.text.startswith(desk.dialogue.render("language-course", "de", "koeln").title)


async def test_staff_replies_reach_the_person_in_order_and_follow_ups_reach_the_topic(desk: Lotse) -> None:
    user = await ready(desk, 503, "en")
    card = await open_case(desk, user, "My landlord wants me to sign a paper I do not understand")
    staff = desk.staff()
    for text in ("Hello Amal, I am Petra.", "Please send me a photo of the paper.", "You can also come by."):
        staff.write(text, thread=card.thread_id)
    replies = await user._replies(3)
    assert [r.text for r in replies] == [
        f"💬 Kommunales Integrationszentrum Köln\n\n{t}"
        for t in ("Hello Amal, I am Petra.", "Please send me a photo of the paper.", "You can also come by.")
    ]
    # The first staff reply took the case: the card says so.
    await eventually(lambda: "übernommen (Petra)" in group(desk)[0].text)
    message_id = user.push_text("Thank you, here it comes")
    await eventually(lambda: any("Thank you, here it comes" in s.text for s in group(desk)))
    relayed = next(s for s in group(desk) if "Thank you, here it comes" in s.text)
    assert relayed.thread_id == card.thread_id
    ticket = await desk.tickets.active(503)
    assert ticket is not None
    assert relayed.text == f"👤 Amal · #{ticket.case}\nThank you, here it comes"
    await eventually(lambda: (503, message_id, "👍") in desk.server.reactions)  # delivered: the person sees 👍
    # A photo goes to the topic too, and staff edits reach the person's copy.
    await user.send_content(expect=0, photo=[{"file_id": "ph1", "file_unique_id": "ph1", "width": 9, "height": 9}],
                            caption="the letter")  # fmt: skip
    await eventually(lambda: any(s.media == "photo" and s.file_id == "ph1" for s in group(desk)))
    mine = staff.write("Thanks, we will call you tomorow", thread=card.thread_id)
    (copy,) = await user._replies(1)
    staff.edit(mine, "Thanks, we will call you tomorrow", thread=card.thread_id)
    await eventually(lambda: copy.text.endswith("call you tomorrow") and copy.edits == 1)


async def test_send_topic_arrives_in_the_persons_language(desk: Lotse) -> None:
    user = await ready(desk, 504, "ar")
    card = await open_case(desk, user, "أبحث عن طبيب أطفال")
    staff = desk.staff()
    staff.write("/send doctor", thread=card.thread_id)
    (answer,) = await user._replies(1)
    rendered = desk.dialogue.render("doctor", "ar", "koeln")
    assert answer.text.startswith("💬 Kommunales Integrationszentrum Köln")
    assert rendered.title in answer.text
    await eventually(lambda: any(s.text.startswith("✔ Gesendet") for s in group(desk)))
    staff.write("/send Deutschkurs", thread=card.thread_id)  # the staff's own words find the topic too
    (course,) = await user._replies(1)
    assert desk.dialogue.render("language-course", "ar", "koeln").title in course.text
    staff.write("/send unicorns", thread=card.thread_id)
    await eventually(lambda: any(s.text.startswith("Unbekanntes Thema „unicorns“") for s in group(desk)))


async def test_close_and_reopen(desk: Lotse) -> None:
    user = await ready(desk, 505, "de")
    card = await open_case(desk, user, "Frage zum Kindergeld")
    staff = desk.staff()
    staff.tap(card, "✋")
    (taken,) = await user._replies(1)
    ticket = await desk.tickets.active(505)
    assert ticket is not None
    assert taken.text == translator("de").gettext(
        "A person at {centre} is now looking at your question (case {case})."
    ).format(centre="Kommunales Integrationszentrum Köln", case=ticket.case)
    await eventually(lambda: "übernommen (Petra)" in group(desk)[0].text)
    staff.tap(group(desk)[0], "✅")
    (closed,) = await user._replies(1)
    ticket = await desk.tickets.by_thread(STAFF_GROUP, card.thread_id or 0)
    assert ticket is not None and ticket.status == "closed" and ticket.case in closed.text
    await eventually(lambda: desk.server.topics[STAFF_GROUP][card.thread_id or 0]["closed"])
    assert [label for label, _ in group(desk)[0].buttons] == ["↩ Wieder öffnen"]
    # Writing again within the window reopens the case and relays the message.
    (again,) = await user.send("Noch eine Frage: ab wann?")
    assert again.text == translator("de").gettext(
        "Your case {case} is open again. Your message was sent to {centre}."
    ).format(case=ticket.case, centre="Kommunales Integrationszentrum Köln")
    await eventually(lambda: any("Noch eine Frage: ab wann?" in s.text for s in group(desk)))
    assert not desk.server.topics[STAFF_GROUP][card.thread_id or 0]["closed"]
    # /end by the person closes it for good: the next message is a question to Lotse again.
    (ended,) = await user.send("/end")
    assert ticket.case in ended.text
    await eventually(lambda: any("Die Person hat den Fall beendet" in s.text for s in group(desk)))
    (answer,) = await user.send("wo kann ich deutsch lernen")
    assert answer.text.startswith(desk.dialogue.render("language-course", "de", "koeln").title)


async def test_delete_erases_the_case_and_tells_the_staff(desk: Lotse) -> None:
    user = await ready(desk, 506, "uk")
    card = await open_case(desk, user, "Мені потрібна допомога з Jobcenter")
    user.push_text("Це мій номер справи 12345")
    await eventually(lambda: any("12345" in s.text for s in group(desk)))
    await user.send("/delete")
    await user.tap("del:yes")
    await eventually(lambda: any("/delete" in s.text and "gelöscht" in s.text for s in group(desk)))
    await eventually(lambda: not any("12345" in s.text for s in group(desk)))  # the relayed copy is deleted
    assert card.thread_id not in desk.server.topics[STAFF_GROUP]  # the case's topic went with everything in it
    assert not any("Мені потрібна допомога" in s.text for s in group(desk))
    with desk.tickets.engine.connect() as conn:
        row = conn.execute(select(TicketRow.__table__).where(TicketRow.__table__.c.thread_id == card.thread_id)).one()  # type: ignore[attr-defined]
        assert row.status == "deleted" and row.question is None and row.first_name is None and row.user_id is None
        payloads = conn.execute(select(OutboxRow.__table__.c.payload)).scalars().all()  # type: ignore[attr-defined]
        assert not any("12345" in p or "Мені" in p for p in payloads)
    assert await desk.stores.get(506) is None


async def test_hostile_display_name_breaks_nothing(desk: Lotse) -> None:
    user = await ready(desk, 507, "fa", name="<b>&")
    (_,) = await user.send("/human")
    (consent,) = await user.send("<i>کمک</i> & سوال")
    assert "<b>&" in consent.text and "<i>کمک</i> & سوال" in consent.text
    yes = next(label for label, data in consent.buttons if data and data.startswith("ho:yes:"))
    await user.tap(yes)
    await eventually(lambda: len(group(desk)) == 1)
    assert "Vorname: <b>&" in group(desk)[0].text
    user.push_text("a < b && c > d")
    await eventually(lambda: any(s.text.endswith("a < b && c > d") and "👤 <b>&" in s.text for s in group(desk)))


async def test_emergency_in_an_open_case_is_answered_and_marks_it_urgent(desk: Lotse) -> None:
    user = await ready(desk, 508, "en")
    await open_case(desk, user, "Question about my rent")
    replies = await user.send("help my child is not breathing", expect=2)
    assert "112" in replies[0].text
    assert replies[1].text == translator("en").gettext("The integration centre has been told that it is urgent.")
    await eventually(lambda: group(desk)[0].text.startswith("Fall #") and "🚨 DRINGEND" in group(desk)[0].text)
    await eventually(lambda: any(s.text.startswith("🚨 Notfallwörter") for s in group(desk)))


async def test_only_staff_group_members_act_and_duplicate_updates_make_one_ticket(desk: Lotse) -> None:
    user = await ready(desk, 509, "en")
    await user.send("/human")
    await user.send("I need help with my residence permit")
    # Telegram delivers the same consent tap twice (e.g. after a timeout): one ticket, one topic, one card.
    await user.tap("✅", expect=1)
    await user.tap("✅", expect=1)
    await eventually(lambda: len(group(desk)) == 1)
    await desk.server.settle()
    assert len(group(desk)) == 1 and len(desk.server.topics[STAFF_GROUP]) == 1
    with desk.tickets.engine.connect() as conn:
        assert len(conn.execute(select(TicketRow.__table__)).all()) == 1  # type: ignore[attr-defined]
    card = group(desk)[0]
    outsider = desk.staff(user_id=666, first_name="Mallory")
    desk.server.members[STAFF_GROUP].discard(666)  # left the group
    outsider.tap(card, "✅")
    await desk.server.settle()
    ticket = await desk.tickets.active(509)
    assert ticket is not None and ticket.status == "open"
    staff = desk.staff()
    staff.write("/tickets", thread=card.thread_id)
    await eventually(lambda: any(s.text.startswith("Offene Fälle (1)") for s in group(desk)))
    staff.write("/stats")
    await eventually(lambda: any(s.text.startswith("Fälle der letzten 30 Tage: 1") for s in group(desk)))


async def test_the_whole_way_on_postgresql(desk_postgres: Lotse) -> None:
    desk = desk_postgres
    user = await ready(desk, 510, "tr")
    card = await open_case(desk, user, "Kira sözleşmemi anlamıyorum")
    desk.staff().write("Merhaba, yarın arayabilir miyiz?", thread=card.thread_id)
    (reply,) = await user._replies(1)
    assert reply.text.endswith("Merhaba, yarın arayabilir miyiz?")
    user.push_text("Evet, saat 10 olur")
    await eventually(lambda: any(s.text.endswith("Evet, saat 10 olur") for s in group(desk)))
    await user.send("/delete")
    await user.tap("del:yes")
    await eventually(lambda: any("Die Person hat ihre Daten gelöscht" in s.text for s in group(desk)))
    assert not any("Kira sözleşmemi" in s.text or "saat 10" in s.text for s in group(desk))
    assert await desk.tickets.active(510) is None and await desk.stores.get(510) is None


async def test_long_captions_and_edits_fit_telegrams_limits(desk: Lotse) -> None:
    # Limits count UTF-16 units: an emoji is two. Before, such a caption was cut by characters and refused.
    user = await ready(desk, 512, "en")
    card = await open_case(desk, user, "I have a letter from the Jobcenter")
    caption = "📄 " * 600  # 1,200 characters, 1,800 units: over the 1,024 a caption may have
    await user.send_content(expect=0, photo=[{"file_id": "ph9", "file_unique_id": "ph9", "width": 9, "height": 9}],
                            caption=caption)  # fmt: skip
    await eventually(lambda: any(s.media == "photo" and s.file_id == "ph9" for s in group(desk)))
    photo = next(s for s in group(desk) if s.file_id == "ph9")
    assert photo.visible.endswith(" …") and photo.visible.count("📄") > 300
    # a staff reply edited to more than a message may hold: the person's copy is shortened, marked, not refused
    staff = desk.staff()
    mine = staff.write("We will call you", thread=card.thread_id)
    (copy,) = await user._replies(1)
    staff.edit(mine, "word " * 1000, thread=card.thread_id)
    await eventually(lambda: copy.edits == 1)
    assert copy.text.endswith(" …") and copy.text.count("word") > 700


async def test_delete_leaves_no_trace_in_the_database_files(desk: Lotse) -> None:
    # The SQLite file and its write-ahead log are searched byte for byte for the name and the texts.
    name, question, later = "Zubaydah-Qx", "Frage wegen Mietvertrag Qx7", "Meine Nummer ist 0171-5550199"
    user = await ready(desk, 513, "de", name=name)
    await open_case(desk, user, question)
    user.push_text(later)
    await eventually(lambda: any("5550199" in s.text for s in group(desk)))
    await user.send("/delete")
    await user.tap("del:yes")
    await eventually(lambda: any("/delete" in s.text and "gelöscht" in s.text for s in group(desk)))
    database = Path(desk.db_url.removeprefix("sqlite:///"))
    files = [database, database.with_name(database.name + "-wal")]
    for text in (name, question, later, "5550199"):
        for file in files:
            content = file.read_bytes() if file.exists() else b""
            assert text.encode() not in content, (text, file.name)
