"""The staff's side of the handoff: buttons and commands in the staff group, relaying their answers, the card."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.handoff.base import HandoffBase
from bot.core.handoff.model import (
    ACTIVE,
    CASE_IN_TOPIC,
    INTERNAL_PREFIX,
    STAFF_LANG,
    STATUS_DE,
    Delivery,
    StaffAction,
    StaffMessage,
    Ticket,
    tg,
    transition,
)
from bot.core.handoff.texts import duration, when_text
from bot.core.replies import Button, Reply

CHANGED_MEANWHILE = "Der Fall wurde gerade geändert; nichts wurde zugestellt. Bitte noch einmal."


class StaffSide(HandoffBase):
    """What happens when staff write, tap a ticket button or send a command in their group."""

    async def staff_action(self, ticket_id: int, action: StaffAction, chat_id: int, staff_name: str, now: float) -> str:
        """A staff button or command on a ticket; returns a short German answer for the staff member."""
        ticket = await self.store.get(ticket_id)
        if ticket is None or ticket.chat_id != chat_id:
            return "Fall nicht gefunden."
        if ticket.purged:
            return f"Fall #{ticket.case}: die Daten sind gelöscht."
        status = transition(ticket, action)
        if status is None:
            return f"Fall #{ticket.case} ist {STATUS_DE[ticket.status]}."
        changes: dict[str, Any] = {"status": status}
        name = self._centre_name(ticket)
        t = self.conversation.t(ticket.lang)

        def deliveries(current: Ticket) -> list[Delivery]:
            out = [self._card(current)]
            key = f"t{current.id}:{action}:{current.version}"
            if action == "take" and ticket.status == "open":
                text = t.gettext("A person at {centre} is now looking at your question (case {case}).")
                out.append(self._to_user(current, key, text.format(centre=name, case=current.case)))
            elif action == "close":
                until = datetime.fromtimestamp(now + self.settings.reopen_hours * 3600, UTC)
                centre = self.centre(current)
                local = until.astimezone(ZoneInfo(centre.timezone)) if centre is not None else until
                text = t.gettext(
                    "{centre} has closed your case {case}. If you write again before {until}, your message goes to "
                    "them again. Otherwise I answer you myself."
                ).format(centre=name, case=current.case, until=when_text(local, current.lang))
                out += [self._to_user(current, key, text), self._topic(current, "close")]
            elif action == "reopen":
                out += [self._to_user(current, key, self._open_reply(current).text), self._topic(current, "reopen")]
            event = {"take": "taken", "close": "closed", "reopen": "reopened", "urgent": "urgent"}[action]
            return out + self._webhook(current, event, now)

        if action == "take":
            changes["taken_by"] = staff_name[:64]
        elif action == "urgent":
            changes["urgent"] = not ticket.urgent
        elif action == "close":
            changes.update(closed_at=now, closed_by="staff")
        else:
            changes.update(closed_at=None, closed_by=None)
        if ticket.user_id is None or ticket.blocked:
            changes.pop("taken_by", None)
        expected = (ticket.status,)
        done = await self.store.change(ticket.id, expected, changes, deliveries, now)
        if done is None:
            return "Der Fall wurde gerade von jemand anderem geändert. Bitte noch einmal."
        answers = {
            "take": f"Fall #{done.case} übernommen.",
            "close": f"Fall #{done.case} geschlossen.",
            "reopen": f"Fall #{done.case} wieder geöffnet.",
            "urgent": f"Fall #{done.case} ist {'dringend' if done.urgent else 'nicht mehr dringend'}.",
        }
        return answers[action]

    async def ticket_for(self, message: StaffMessage) -> Ticket | None:
        """The ticket a staff message belongs to: its forum topic, or the ticket message it replies to."""
        if message.thread_id is not None:
            found = await self.store.by_thread(message.chat_id, message.thread_id)
            if found is not None:
                return found
            # A topic made for a case whose id was lost with Telegram's answer: its name says which case it is.
            named = CASE_IN_TOPIC.match(message.topic_name or "")
            if named is not None:
                adopted = await self.store.adopt(message.chat_id, named.group(1), message.thread_id)
                if adopted is not None:
                    return adopted
        if message.reply_to is not None:
            return await self.store.by_message(message.chat_id, message.reply_to)
        return None

    async def staff_message(self, message: StaffMessage, now: float) -> None:
        """Staff wrote in a ticket's topic (or replied to it): relay it to the person, labelled with the centre.

        The change applies only to the status it was decided on: when a colleague closes the case or the person
        deletes it at the same moment, the message is decided again on the new state (never a closed case turned
        "taken", never a delivery to a person who is gone)."""
        found = await self.ticket_for(message)
        if found is None:
            return
        if message.text is not None and message.text.startswith(INTERNAL_PREFIX):
            return
        key = f"s:{message.chat_id}:{message.message_id}"
        ticket: Ticket | None = found
        for _ in range(3):
            if ticket is None:
                return
            if ticket.status == "deleted" or ticket.user_id is None:
                await self._staff_note(ticket, key, f"Fall #{ticket.case} wurde gelöscht; nichts wurde zugestellt.")
                return
            if ticket.blocked:
                await self._staff_note(ticket, key, "Die Person hat den Bot blockiert; die Nachricht kann nicht "
                                       "zugestellt werden.")  # fmt: skip
                return
            if await self._relay_staff(ticket, message, key, now) is not None:
                return
            ticket = await self.store.get(ticket.id)  # changed meanwhile: decide again on what it is now
        if ticket is not None:
            await self._staff_note(ticket, key, CHANGED_MEANWHILE)

    async def _relay_staff(self, ticket: Ticket, message: StaffMessage, key: str, now: float) -> Ticket | None:
        title = f"💬 {self._centre_name(ticket)}"

        def deliveries(current: Ticket) -> list[Delivery]:
            assert current.user_id is not None  # the status checked below is never "deleted"
            if message.media is not None:
                payload = {"media": message.media, "file_id": message.file_id, "caption": message.text, "label": title}
                out = [Delivery(key, tg(current.user_id), "media", payload, current.id)]
            else:
                out = [self._to_user(current, key, message.text or "", title)]
            if ticket.status == "open":
                out.append(self._card(current))
            return out

        changes: dict[str, Any] = {}
        if ticket.first_reply_at is None:
            changes["first_reply_at"] = now
        if ticket.status == "open":
            changes.update(status="taken", taken_by=message.staff_name[:64])
        return await self.store.change(ticket.id, (ticket.status,), changes, deliveries, now)

    async def staff_edit(self, chat_id: int, message_id: int, text: str, edit_date: float) -> None:
        """Staff edited a relayed message: the person's copy changes too."""
        key = f"s:{chat_id}:{message_id}"
        ticket_id = await self.store.delivery_ticket(key)
        ticket = await self.store.get(ticket_id) if ticket_id is not None else None
        if ticket is None or ticket.user_id is None:
            return
        payload = {"of": key, "text": text, "label": f"💬 {self._centre_name(ticket)}"}
        await self.store.enqueue([Delivery(f"{key}:e{int(edit_date)}", tg(ticket.user_id), "edit", payload, ticket.id)])

    async def send_topic(self, message: StaffMessage, topic_query: str, now: float) -> None:
        """/send <topic>: the knowledge answer in the person's language, labelled with the centre."""
        ticket = await self.ticket_for(message)
        key = f"s:{message.chat_id}:{message.message_id}"
        if ticket is None:
            await self._note_in_chat(message, key, "/send funktioniert im Thema eines Falls oder als Antwort auf "
                                     "die Fall-Nachricht.")  # fmt: skip
            return
        topic_id = self._find_topic(topic_query)
        if topic_id is None:
            ids = ", ".join(sorted(self.knowledge.topics))
            await self._staff_note(ticket, key, f"Unbekanntes Thema „{topic_query}“. Themen: {ids}")
            return
        if ticket.user_id is None or ticket.status == "deleted" or ticket.blocked:
            await self._staff_note(ticket, key, f"Fall #{ticket.case}: keine Zustellung möglich.")
            return
        rendered = self.dialogue.render(topic_id, ticket.lang, ticket.city)
        text = f"{rendered.title}\n\n{rendered.text}"
        title = f"💬 {self._centre_name(ticket)}"
        german = self.dialogue.title(topic_id, STAFF_LANG)
        native = self.knowledge.languages[rendered.lang].native

        def deliveries(current: Ticket) -> list[Delivery]:
            note = self._to_staff(current, f"{key}:ok", f"✔ Gesendet: „{german}“ auf {native}.")
            return [self._to_user(current, key, text, title), note]

        changes: dict[str, Any] = {"first_reply_at": now} if ticket.first_reply_at is None else {}
        if await self.store.change(ticket.id, (ticket.status,), changes, deliveries, now) is None:
            await self._staff_note(ticket, key, CHANGED_MEANWHILE)  # deleted or closed at this moment

    async def send_translated(self, message: StaffMessage, text: str, now: float) -> None:
        """/tr <German text>: translated into the person's language (when a translation service is configured)."""
        ticket = await self.ticket_for(message)
        key = f"s:{message.chat_id}:{message.message_id}"
        if ticket is None or ticket.user_id is None or ticket.blocked or ticket.status == "deleted":
            await self._note_in_chat(message, key, "/tr funktioniert im Thema eines offenen Falls.")
            return
        if not self.translation:
            await self._staff_note(ticket, key, "Keine Übersetzung eingerichtet (LOTSE_TRANSLATE_URL).")
            return
        title = f"💬 {self._centre_name(ticket)}"

        def deliveries(current: Ticket) -> list[Delivery]:
            delivery = self._to_user(current, key, text, title)
            return [replace(delivery, payload={**delivery.payload, "translate": [STAFF_LANG, current.lang]})]

        if await self.store.change(ticket.id, (ticket.status,), {}, deliveries, now) is None:
            await self._staff_note(ticket, key, CHANGED_MEANWHILE)

    def _find_topic(self, query: str) -> str | None:
        """A topic id, or what the matcher finds for the words staff typed ("jobcenter", "Arzt", "Deutschkurs")."""
        query = query.strip()
        if query.lower() in self.knowledge.topics:
            return query.lower()
        decision = self.dialogue.decide(query, STAFF_LANG) if query else None
        return decision.topic if decision is not None and decision.kind == "answer" else None

    async def _staff_note(self, ticket: Ticket, key: str, text: str) -> None:
        await self.store.enqueue([self._to_staff(ticket, f"{key}:note", text)])

    async def _note_in_chat(self, message: StaffMessage, key: str, text: str) -> None:
        payload: dict[str, Any] = {"text": text, "thread_id": message.thread_id, "reply_to": message.message_id}
        await self.store.enqueue([Delivery(f"{key}:note", tg(message.chat_id), "message", payload)])

    async def list_tickets(self, message: StaffMessage, now: float) -> None:
        """/tickets: the open cases of this group, waiting longest first."""
        tickets = await self.store.active_in(message.chat_id)
        if not tickets:
            text = "Keine offenen Fälle. 🎉"
        else:
            lines = [f"Offene Fälle ({len(tickets)}), am längsten wartend zuerst:"]
            for ticket in tickets[:50]:
                waiting = duration(now - (ticket.opened_at or ticket.created_at))
                flag = "🚨 " if ticket.urgent else ""
                city = self._city_name(ticket, STAFF_LANG) or "–"
                who = f", {ticket.taken_by}" if ticket.taken_by else ""
                lines.append(f"{flag}#{ticket.case} · {ticket.lang} · {city} · {STATUS_DE[ticket.status]}{who} · "
                             f"wartet seit {waiting}")  # fmt: skip
            text = "\n".join(lines)
        await self._note_in_chat(message, f"s:{message.chat_id}:{message.message_id}", text)

    async def stats(self, message: StaffMessage, now: float, days: int = 30) -> None:
        """/stats: cases of this group in the last 30 days."""
        figures = await self.store.stats(message.chat_id, now - days * 86400)
        lines = [f"Fälle der letzten {days} Tage: {figures.get('total', 0)}"]
        for status in ("open", "taken", "closed", "deleted"):
            lines.append(f"• {STATUS_DE[status]}: {figures.get(status, 0)}")
        lines.append(f"• dringend: {figures.get('urgent', 0)}, Bot blockiert: {figures.get('blocked', 0)}")
        median = figures.get("median_first_reply")
        if median is not None:
            lines.append(f"Erste Antwort im Median nach {duration(float(median))}")
        langs = figures.get("languages") or {}
        if langs:
            lines.append("Sprachen: " + ", ".join(f"{code} {count}" for code, count in langs.items()))
        await self._note_in_chat(message, f"s:{message.chat_id}:{message.message_id}", "\n".join(lines))

    def card(self, ticket: Ticket) -> Reply:
        """The ticket message in the staff group (German), with the buttons for the staff."""
        lang = self.knowledge.languages.get(ticket.lang)
        lines = [f"Status: {STATUS_DE[ticket.status]}" + (f" ({ticket.taken_by})" if ticket.taken_by else "")]
        if ticket.urgent:
            lines.insert(0, "🚨 DRINGEND")
        if ticket.blocked:
            lines.append("⛔ Die Person hat den Bot blockiert.")
        if ticket.status == "deleted":
            lines.append("Die Person hat ihre Daten gelöscht.")
        elif ticket.purged:
            lines.append("Frage und Vorname sind gelöscht (Aufbewahrungsfrist).")
        else:
            lines += [
                f"Vorname: {ticket.first_name or '–'}",
                f"Sprache: {lang.native if lang else ticket.lang} ({ticket.lang})",
                f"Stadt: {self._city_name(ticket, STAFF_LANG) or 'nicht angegeben'}",
                "",
                f"Frage:\n{ticket.question or '–'}",
            ]
            if ticket.candidates:
                titles = ", ".join(f"{self.dialogue.title(c, STAFF_LANG)} ({c})" for c in ticket.candidates
                                   if c in self.knowledge.topics)  # fmt: skip
                lines.append(f"\nPassende Themen: {titles}")
            if ticket.shared_topics:
                shown = ", ".join(self.dialogue.title(c, STAFF_LANG) for c in ticket.shared_topics
                                  if c in self.knowledge.topics)  # fmt: skip
                lines.append(f"Zuletzt von Lotse gezeigt: {shown}")
            where = "in diesem Thema" if ticket.thread_id is not None else "als Antwort auf diese Nachricht"
            lines.append(
                f"\nAntworten: {where} schreiben. /send <thema> schickt eine Antwort aus der Wissensbasis in der "
                f"Sprache der Person. Nachrichten mit {INTERNAL_PREFIX} am Anfang bleiben intern."
            )
        buttons: tuple[tuple[Button, ...], ...] = ()
        if ticket.status in ACTIVE:
            buttons = (
                (
                    Button("✋ Übernehmen", f"tk:take:{ticket.id}"),
                    Button("🚨 Dringend", f"tk:urgent:{ticket.id}"),
                    Button("✅ Schließen", f"tk:close:{ticket.id}"),
                ),
            )
        elif ticket.status == "closed" and not ticket.purged:
            buttons = ((Button("↩ Wieder öffnen", f"tk:reopen:{ticket.id}"),),)
        return Reply("\n".join(lines), title=f"Fall #{ticket.case}", buttons=buttons, kind="card")

    def topic_name(self, ticket: Ticket) -> str:
        """The forum topic's name: case number, language and city (no name of the person)."""
        city = self._city_name(ticket, STAFF_LANG) or "–"
        return f"#{ticket.case} · {ticket.lang} · {city}"[:128]

    async def blocked(self, ticket_id: int, now: float) -> None:
        """Telegram said the person blocked the bot: mark the ticket and tell the staff."""

        def deliveries(ticket: Ticket) -> list[Delivery]:
            note = "⛔ Die Person hat den Bot blockiert. Nachrichten können nicht mehr zugestellt werden."
            return [self._to_staff(ticket, f"t{ticket.id}:blocked", note), self._card(ticket)]

        await self.store.change(ticket_id, None, {"blocked": True}, deliveries, now)
