"""Core flows in milliseconds: a person through :class:`Desk`, staff through :class:`Handoff`, the real knowledge, and
the in-memory stores of :mod:`tests.fakes` (no network, no database, no Telegram).

What a person sees is the replies of an outcome and the deliveries addressed to them; what staff see is what the
outbox sends to their group (drained as the worker would) and the card :meth:`Handoff.card` renders for a ticket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pytest

from bot.core.centres import Centre, Centres
from bot.core.conversation import Conversation
from bot.core.desk import Desk
from bot.core.dialogue import Dialogue
from bot.core.handoff import Handoff, OutboxItem, StaffAction, StaffMessage, Ticket, tg
from bot.core.replies import Outcome, Profile, Reply
from tests.fakes import FakeClock, MemoryStores, MemoryTickets

GROUP = -1001234
CENTRE_NAME = "KI Köln"
CENTRE = Centre.model_validate(
    {
        "id": "ki",
        "name": CENTRE_NAME,
        "cities": ["koeln"],
        "chat_id": GROUP,
        "timezone": "Europe/Berlin",
        "hours": {"mon": "09:00-16:00", "tue": "09:00-16:00"},
    }
)
HOUR, DAY = 3600.0, 86400.0
QUESTION = "My landlord wants me to sign a paper I do not understand"
EMERGENCY = "help my child is not breathing"


@dataclass
class World:
    """One bot: the knowledge, a desk with a handoff to the Köln centre, and empty stores."""

    dialogue: Dialogue
    centres: Centres | None = field(default_factory=lambda: Centres(MappingProxyType({"ki": CENTRE})))
    clock: FakeClock = field(default_factory=FakeClock)  # Monday 10:00 in Köln: the office is open
    profiles: MemoryStores = field(default_factory=MemoryStores)
    tickets: MemoryTickets = field(init=False)
    handoff: Handoff = field(init=False)
    desk: Desk = field(init=False)

    def __post_init__(self) -> None:
        self.tickets = MemoryTickets(clock=self.clock)
        conversation = Conversation(self.dialogue)
        self.handoff = Handoff(conversation, self.centres, self.tickets)
        self.desk = Desk(conversation, self.handoff)

    async def person(self, user_id: int, lang: str = "en", city: str | None = "koeln", name: str = "Amal") -> Person:
        await self.profiles.save(Profile(user_id, lang=lang, city=city, step="ready"))  # onboarded
        return Person(self, user_id, name)

    async def sent(self) -> list[OutboxItem]:
        """Everything the outbox worker sends now."""
        return await self.tickets.drain(self.clock())

    async def staff_writes(self, text: str, *, reply_to: int | None = None, message_id: int = 500) -> None:
        message = StaffMessage(GROUP, message_id, "Petra", reply_to=reply_to, text=text)
        await self.handoff.staff_message(message, self.clock())

    async def staff_taps(self, ticket: Ticket, action: StaffAction) -> str:
        return await self.handoff.staff_action(ticket.id, action, GROUP, "Petra", self.clock())

    async def ticket(self, ticket_id: int) -> Ticket:
        found = await self.tickets.get(ticket_id)
        assert found is not None
        return found


@dataclass
class Person:
    """A person writing to the bot; the profile is loaded and stored around each message, as the edge does."""

    world: World
    user_id: int
    name: str
    messages: int = 0

    async def _apply(self, before: Profile, outcome: Outcome) -> tuple[Reply, ...]:
        if outcome.profile != before:
            await self.world.profiles.save(outcome.profile)
        return outcome.replies

    async def profile(self) -> Profile:
        stored = await self.world.profiles.get(self.user_id)
        assert stored is not None
        return stored

    async def says(self, text: str, *, message_id: int | None = None) -> tuple[Reply, ...]:
        """A text message (``message_id``: the same update again)."""
        if message_id is None:
            self.messages += 1
            message_id = self.messages
        profile = await self.profile()
        desk, now = self.world.desk, self.world.clock()
        outcome = await desk.on_text(profile, text, message_id=message_id, first_name=self.name, now=now)
        return await self._apply(profile, outcome)

    async def sends_photo(self, file_id: str, caption: str | None) -> tuple[Reply, ...]:
        self.messages += 1
        profile = await self.profile()
        outcome = await self.world.desk.on_media(profile, "photo", voice=False, file_id=file_id, caption=caption,
                                                 message_id=self.messages, now=self.world.clock())  # fmt: skip
        return await self._apply(profile, outcome)

    async def asks_for_a_person(self) -> tuple[Reply, ...]:
        profile = await self.profile()
        return await self._apply(profile, await self.world.desk.on_human(profile))

    async def taps(self, button: Reply, label_start: str) -> tuple[Reply, ...]:
        """A consent button of ``button`` whose label starts with ``label_start``."""
        data = next(b.data for row in button.buttons for b in row if b.label.startswith(label_start))
        assert data is not None and data.startswith("ho:")
        profile = await self.profile()
        outcome = await self.world.desk.on_consent(profile, data.removeprefix("ho:"), self.name, self.world.clock())
        return await self._apply(profile, outcome)

    async def ends(self) -> tuple[Reply, ...]:
        profile = await self.profile()
        return await self._apply(profile, await self.world.desk.on_end(profile, self.world.clock()))

    async def deletes(self) -> None:
        """/delete confirmed: the cases are erased, then the profile (as the edge does)."""
        await self.world.desk.forget(self.user_id, self.world.clock())
        await self.world.profiles.delete(self.user_id)

    async def opens_a_case(self, question: str = QUESTION) -> Ticket:
        await self.asks_for_a_person()
        (consent,) = await self.says(question)
        await self.taps(consent, "✅ Yes, send it")
        ticket = await self.world.tickets.active(self.user_id)
        assert ticket is not None
        return ticket


def texts(items: Sequence[OutboxItem], dest: str) -> list[str]:
    """The texts of the messages sent to ``dest``: a person's copy with the centre's title above it; in the staff
    group the text alone (the "👤 name · #case" label is checked where it matters)."""
    out = []
    for item in items:
        if item.dest == dest and item.kind in ("message", "media"):
            title = item.payload.get("title") or item.payload.get("label")
            body = item.payload.get("text") or item.payload.get("caption") or ""
            out.append(f"{title}\n\n{body}" if title and item.dest != tg(GROUP) else body)
    return out


def kinds(items: Sequence[OutboxItem], dest: str = tg(GROUP)) -> list[str]:
    return [item.kind for item in items if item.dest == dest]


@pytest.fixture
def world(dialogue: Dialogue) -> World:
    return World(dialogue)


# -- the conversation ---------------------------------------------------------------------------------------------


async def test_a_question_is_answered_and_remembered_as_a_recent_topic(world: World) -> None:
    person = await world.person(1)
    (answer,) = await person.says("where can i learn german for free")
    assert answer.kind == "answer"
    assert answer.title == world.dialogue.render("language-course", "en", "koeln").title
    labels = [b.label for row in answer.buttons for b in row]
    assert "👍" in labels and "💬 Talk to a person" in labels
    assert (await person.profile()).recent == ("language-course",)
    assert world.tickets.tickets == {} and world.tickets.outbox == {}


async def test_an_emergency_is_answered_first_even_while_the_question_for_staff_is_awaited(world: World) -> None:
    person = await world.person(2)
    (answer,) = await person.says(EMERGENCY)
    assert answer.kind == "emergency" and answer.quote
    assert "112" in f"{answer.title}\n{answer.text}"
    await person.asks_for_a_person()
    assert (await person.profile()).step == "question"
    (answer,) = await person.says(EMERGENCY)  # meant as the question for the staff: the emergency answer comes first
    assert answer.kind == "emergency" and "112" in f"{answer.title}\n{answer.text}"
    assert (await person.profile()).step == "ready"
    assert world.tickets.tickets == {}, "no request is drafted from an emergency"


@pytest.mark.parametrize("setup", ["no centres at all", "no centre for the city"])
async def test_without_a_centre_a_request_for_a_person_shows_the_citys_contacts(dialogue: Dialogue, setup: str) -> None:
    other = Centre.model_validate({"id": "do", "name": "KI Dortmund", "cities": ["dortmund"], "chat_id": -1009})
    world = World(dialogue, centres=None if setup == "no centres at all" else Centres(MappingProxyType({"do": other})))
    if setup == "no centres at all":
        world.desk = Desk(world.desk.conversation)  # as the wiring builds it: NoHandoff
    person = await world.person(3)
    for replies in (await person.asks_for_a_person(), await person.says("i want to talk to a human")):
        (contacts,) = replies
        assert contacts.kind == "human" and contacts.title == "Talk to a person"
        assert "Kommunales Integrationszentrum Köln" in contacts.text
    assert (await person.profile()).step == "ready"  # not waiting for a question for staff
    (answer,) = await person.says("where can i learn german")
    assert answer.kind == "answer"
    assert world.tickets.tickets == {} and world.tickets.outbox == {}


# -- the handoff ----------------------------------------------------------------------------------------------------


async def test_consent_shows_exactly_what_is_shared_and_yes_opens_the_case(world: World) -> None:
    person = await world.person(10)
    await person.says("where can i learn german")  # a topic Lotse showed: shared only if the person chooses
    (prompt,) = await person.asks_for_a_person()
    assert prompt.title == "Talk to a person" and prompt.text.startswith("Write your question")
    (consent,) = await person.says(QUESTION)
    assert consent.kind == "consent" and consent.title == "Before I send it"
    lines = consent.text.splitlines()
    topic = world.dialogue.title("language-course", "en")
    assert lines[:6] == [
        f"This goes to {CENTRE_NAME}:",
        "• First name: Amal",
        "• Language: English",
        "• City: Cologne",
        f"• Your question: “{QUESTION}”",
        f"• Only if you choose: the topics Lotse showed you last ({topic})",
    ]
    assert "Your phone number and your Telegram username are not shared." in lines
    assert "The office is open now." in lines and lines[-1] == "Shall I send it?"
    labels = [b.label for row in consent.buttons for b in row]
    assert labels == ["✅ Yes, send it", "✅ Yes, with my last topics", "✖ No, do not send"]
    assert [t.status for t in world.tickets.tickets.values()] == ["draft"]
    assert await world.sent() == [], "nothing reaches the staff before consent"

    (sent,) = await person.taps(consent, "✅ Yes, send it")
    ticket = await world.tickets.active(10)
    assert ticket is not None and ticket.status == "open" and ticket.first_name == "Amal"
    assert sent.text.startswith(f"Sent. Your case number is {ticket.case}.")
    assert ticket.shared_topics == (), "“yes” without the topics shares none"
    assert kinds(await world.sent()) == ["announce"]
    card = world.handoff.card(ticket)  # what the announcement shows the staff
    assert card.title == f"Fall #{ticket.case}"
    assert "Vorname: Amal" in card.text and QUESTION in card.text and "Stadt: Köln" in card.text
    assert "Zuletzt von Lotse gezeigt" not in card.text


async def test_no_sends_nothing_and_the_next_message_is_a_question_again(world: World) -> None:
    person = await world.person(11)
    await person.asks_for_a_person()
    (consent,) = await person.says(QUESTION)
    (refused,) = await person.taps(consent, "✖ No")
    assert refused.text == "Nothing was sent. You can ask me something else or open the menu."
    assert world.tickets.tickets == {} and await world.sent() == []
    (answer,) = await person.says("where can i learn german")
    assert answer.kind == "answer"


async def test_the_whole_handoff_from_request_to_deletion(world: World) -> None:
    person = await world.person(20)
    ticket = await person.opens_a_case()
    assert kinds(await world.sent()) == ["announce"]

    # a follow-up goes to the staff group, labelled with the first name and the case
    assert await person.says("Here is the number of the contract: 4711") == ()
    sent = await world.sent()
    assert texts(sent, tg(GROUP)) == ["Here is the number of the contract: 4711"]
    (relay,) = sent
    assert relay.payload["label"] == f"👤 Amal · #{ticket.case}" and relay.key == "u:20:2"
    assert await person.sends_photo("photo-1", "the contract") == ()
    (photo,) = await world.sent()
    assert (
        photo.kind == "media" and photo.payload["file_id"] == "photo-1" and photo.payload["caption"] == "the contract"
    )

    # staff answer as a reply to the relayed message: it reaches the person, and the case is taken
    copy = await world.tickets.copy_of(relay.key)
    assert copy is not None
    await world.staff_writes("Hello Amal, I am Petra. Come by on Tuesday.", reply_to=copy[1])
    sent = await world.sent()
    assert texts(sent, tg(20)) == [f"💬 {CENTRE_NAME}\n\nHello Amal, I am Petra. Come by on Tuesday."]
    taken = await world.ticket(ticket.id)
    assert taken.status == "taken" and taken.taken_by == "Petra" and taken.first_reply_at == world.clock()
    assert world.handoff.card(taken).text.startswith("Status: übernommen (Petra)")

    # staff close: the person is told until when writing reopens it
    assert await world.staff_taps(taken, "close") == f"Fall #{ticket.case} geschlossen."
    (closed,) = texts(await world.sent(), tg(20))
    assert closed.startswith(f"{CENTRE_NAME} has closed your case {ticket.case}. If you write again before")
    assert (await world.ticket(ticket.id)).status == "closed"

    # within the reopen window the person's next message reopens the case and is relayed
    world.clock.advance(2 * HOUR)
    (again,) = await person.says("One more question: from when?")
    assert again.text == f"Your case {ticket.case} is open again. Your message was sent to {CENTRE_NAME}."
    assert (await world.ticket(ticket.id)).status == "open"
    sent = await world.sent()
    assert texts(sent, tg(GROUP)) == [
        "↩ Die Person hat wieder geschrieben; der Fall ist wieder offen.",
        "One more question: from when?",
    ]
    assert {"card", "topic"} <= set(kinds(sent))

    # /end closes it for good: the next message is a question to Lotse again
    (ended,) = await person.ends()
    assert ended.text == f"Your case {ticket.case} is closed. You can ask me anything again."
    assert texts(await world.sent(), tg(GROUP)) == ["Die Person hat den Fall beendet (/end)."]
    (answer,) = await person.says("where can i learn german")
    assert answer.kind == "answer"
    ended_ticket = await world.ticket(ticket.id)
    assert ended_ticket.status == "closed" and ended_ticket.closed_by == "user"

    # /delete: question and first name are erased, and the group's copies of the person's messages are deleted
    copies = [await world.tickets.copy_of(key) for key in ("u:20:2", "u:20:3", "u:20:4")]
    await person.deletes()
    erased = await world.ticket(ticket.id)
    assert erased.status == "deleted" and erased.purged
    assert (erased.question, erased.first_name, erased.user_id) == (None, None, None)
    assert await world.tickets.copy_of("u:20:2") is None, "the relay records are gone"
    pending = world.tickets.pending(tg(GROUP))
    deletes = [(r.data["chat_id"], r.data["message_id"]) for r in pending if r.kind == "delete"]
    assert deletes == copies and all(c is not None for c in copies)  # the follow-ups, the photo, the reopening one
    told = [r.data["text"] for r in pending if r.kind == "message"]
    assert told == [
        f"🗑 Fall #{ticket.case}: Die Person hat ihre Daten gelöscht (/delete). Der Fall ist geschlossen; Frage, "
        "Vorname und weitergeleitete Nachrichten sind gelöscht."
    ]
    assert "card" in [r.kind for r in pending]  # the card is rewritten without the question
    card = world.handoff.card(erased)
    assert "Die Person hat ihre Daten gelöscht." in card.text and QUESTION not in card.text and card.buttons == ()
    stored = " ".join(r.payload for r in world.tickets.outbox.values())
    assert "4711" not in stored and QUESTION not in stored and "Amal" not in stored
    assert await world.profiles.get(20) is None


async def test_delete_in_a_forum_group_removes_the_cases_topic(world: World) -> None:
    person = await world.person(21)
    ticket = await person.opens_a_case()
    await world.sent()
    await world.tickets.set_place(ticket.id, thread_id=77)  # the worker made the case's topic
    await person.says("my phone number is 0171 5550199")
    await world.sent()
    await person.deletes()
    pending = world.tickets.pending(tg(GROUP))
    assert [(r.kind, r.data.get("state")) for r in pending] == [("topic", "delete"), ("message", None)]


async def test_after_the_reopen_window_a_closed_case_stays_closed(world: World) -> None:
    person = await world.person(22)
    ticket = await person.opens_a_case()
    await world.staff_taps(ticket, "close")
    world.clock.advance(25 * HOUR)
    (answer,) = await person.says("where can i learn german")
    assert answer.kind == "answer"
    assert (await world.ticket(ticket.id)).status == "closed"


async def test_retention_erases_old_closed_cases_and_closes_cases_open_too_long(world: World) -> None:
    closed_person, open_person, recent_person = await world.person(30), await world.person(31), await world.person(32)
    old = await closed_person.opens_a_case("Question about the Jobcenter letter")
    await world.staff_taps(old, "close")
    stale = await open_person.opens_a_case("Question about my rent")
    await open_person.says("It is 900 euros")
    await world.sent()
    world.clock.advance(60 * DAY)
    recent = await recent_person.opens_a_case("Question about the school")
    await world.staff_taps(recent, "close")
    await world.sent()

    world.clock.advance(29 * DAY)  # 89 days: nothing is due yet
    assert (await world.handoff.purge(world.clock()))["tickets"] == 0
    world.clock.advance(2 * DAY)
    counts = await world.handoff.purge(world.clock())
    assert (counts["tickets"], counts["open_cases"], counts["relay_records"]) == (2, 1, 1)

    erased, closed = await world.ticket(old.id), await world.ticket(stale.id)
    assert erased.status == "closed" and erased.purged and erased.question is None and erased.first_name is None
    assert closed.status == "closed" and closed.purged and closed.question is None and closed.user_id is None
    kept = await world.ticket(recent.id)
    assert not kept.purged and kept.question == "Question about the school"
    sent = await world.sent()
    assert texts(sent, tg(31)) == [
        f"Your case {stale.case} was open for more than 90 days. It is now closed and its data are deleted. If you "
        "still need help, write /human."
    ]
    assert texts(sent, tg(30)) == [], "a case closed normally is erased without a message to the person"
    group = texts(sent, tg(GROUP))
    assert f"🗑 Fall #{stale.case} war länger als 90 Tage offen und ist jetzt geschlossen." in group[1]
    assert group[0].startswith(f"🗑 Fall #{old.case}: Frage, Vorname und weitergeleitete Nachrichten sind nach 90")
    assert [k for k in kinds(sent) if k == "delete"] == ["delete"]  # the relayed "900 euros"
    (answer,) = await open_person.says("where can i learn german")
    assert answer.kind == "answer" and await world.sent() == [], "the person's next message is no longer relayed"
    assert (await world.handoff.purge(world.clock()))["tickets"] == 0  # done once


async def test_a_duplicate_update_never_makes_a_second_ticket_or_delivery(world: World) -> None:
    person = await world.person(40)
    await person.asks_for_a_person()
    (consent,) = await person.says(QUESTION, message_id=7)
    (again,) = await person.says(QUESTION, message_id=7)  # the question processed again after a crash
    assert again.text == consent.text and again.buttons == consent.buttons
    await person.taps(consent, "✅ Yes, send it")
    (twice,) = await person.taps(consent, "✅ Yes, send it")  # the same tap arrives twice
    ticket = await world.tickets.active(40)
    assert ticket is not None
    assert twice.text.startswith(f"Your case {ticket.case} is open.")
    assert await person.says(QUESTION, message_id=7) == ()  # the question itself: not relayed as a follow-up
    for _ in range(2):
        assert await person.says("a follow-up", message_id=8) == ()
    sent = await world.sent()
    assert kinds(sent) == ["announce", "message"] and texts(sent, tg(GROUP)) == ["a follow-up"]
    copy = await world.tickets.copy_of("u:40:8")
    assert copy is not None
    for _ in range(2):
        await world.staff_writes("an answer", reply_to=copy[1], message_id=900)
    assert texts(await world.sent(), tg(40)) == [f"💬 {CENTRE_NAME}\n\nan answer"]
    assert len(world.tickets.tickets) == 1


async def test_an_emergency_in_an_open_case_marks_it_urgent_and_the_person_gets_112(world: World) -> None:
    person = await world.person(50)
    ticket = await person.opens_a_case()
    await world.sent()
    await person.says("I am waiting for the letter")  # chatter still waiting for the group
    emergency, told = await person.says(EMERGENCY)
    assert emergency.kind == "emergency" and "112" in f"{emergency.title}\n{emergency.text}"
    assert told.text == "The integration centre has been told that it is urgent."
    urgent = await world.ticket(ticket.id)
    assert urgent.urgent and urgent.status == "open"
    assert world.handoff.card(urgent).text.startswith("🚨 DRINGEND")
    sent = await world.sent()
    assert [(i.kind, i.payload.get("text", "")[:15]) for i in sent] == [
        ("message", EMERGENCY[:15]),  # the emergency goes before the chatter waiting for the group
        ("message", "🚨 Notfallwörter"),
        ("card", ""),
        ("message", "I am waiting fo"),
    ]
    again, _ = await person.says("please hurry, he is not breathing")
    assert again.kind == "emergency"
    assert kinds(await world.sent()) == ["message", "message"], "still urgent: no second card"


# -- races between staff members, and between staff and the person ------------------------------------------------


async def _open_case_with_a_relayed_copy(world: World, person: Person) -> tuple[Ticket, int]:
    """An open case and the staff group's copy of a follow-up in it (what staff reply to)."""
    ticket = await person.opens_a_case()
    await world.sent()
    await person.says("a follow-up")
    (relay,) = await world.sent()
    copy = await world.tickets.copy_of(relay.key)
    assert copy is not None
    return ticket, copy[1]


def _just_before_the_next_change(
    world: World, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], Awaitable[object]]
) -> None:
    """``meanwhile`` happens between a flow's reading of the ticket and its change (as another update can)."""
    change = world.tickets.change
    done = False

    async def racing(*args: Any, **kwargs: Any) -> Ticket | None:
        nonlocal done
        if not done:
            done = True
            await meanwhile()
        return await change(*args, **kwargs)

    monkeypatch.setattr(world.tickets, "change", racing)


async def test_a_staff_reply_racing_a_colleagues_close_leaves_the_case_closed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await world.person(50)
    ticket, copy = await _open_case_with_a_relayed_copy(world, person)
    _just_before_the_next_change(world, monkeypatch, lambda: world.staff_taps(ticket, "close"))
    await world.staff_writes("one more thing: bring your passport", reply_to=copy)
    after = await world.ticket(ticket.id)
    assert after.status == "closed" and after.closed_by == "staff"  # never a closed case turned "taken"
    to_person = texts(await world.sent(), tg(50))
    assert any("one more thing: bring your passport" in text for text in to_person)  # still delivered


async def test_a_staff_reply_racing_the_persons_delete_delivers_nothing_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await world.person(51)
    ticket, copy = await _open_case_with_a_relayed_copy(world, person)
    _just_before_the_next_change(world, monkeypatch, person.deletes)
    await world.staff_writes("are you still there?", reply_to=copy)  # no AssertionError, no delivery
    sent = await world.sent()
    assert not [item for item in sent if item.dest == tg(51)]
    assert any(f"Fall #{ticket.case} wurde gelöscht" in text for text in texts(sent, tg(GROUP)))
