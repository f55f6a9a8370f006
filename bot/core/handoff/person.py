"""The person's side of the handoff: the request, consent, relaying their messages, reopening and /end."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core.centres import Centre
from bot.core.handoff.base import HandoffBase
from bot.core.handoff.model import ACTIVE, MAX_QUESTION, RELAYED_MEDIA, Delivery, NewTicket, Ticket, tg
from bot.core.render import isolate_ltr
from bot.core.replies import Button, Outcome, Profile, Reply


class PersonSide(HandoffBase):
    """What happens when the person asks for a human, answers the consent question and writes in an open case."""

    async def request(self, profile: Profile) -> Outcome:
        """Talk to a person (button, /human, a request in text): ask for the question, or say the case is open."""
        if self.centre_for(profile.city) is None:
            return self.conversation.on_human(profile)
        t = self.conversation.t(profile.lang)
        active = await self.store.active(profile.user_id)
        if active is not None:
            return Outcome(profile, (self._open_reply(active),))
        reply = Reply(
            t.gettext(
                "Write your question for the integration centre in one message. Before anything is sent, I show "
                "you what will be shared and ask you."
            ),
            title=t.gettext("Talk to a person"),
            buttons=((Button(t.gettext("✖ Cancel"), "ho:cancel"),),),
            direction=self.conversation.direction(profile.lang),
            kind="human",
        )
        return Outcome(replace(profile, step="question"), (reply,))

    def cancel(self, profile: Profile) -> Outcome:
        """The person cancelled before writing the question."""
        t = self.conversation.t(profile.lang)
        reply = Reply(
            t.gettext("Nothing was sent. You can ask me something else or open the menu."),
            buttons=((Button(t.gettext("☰ Menu"), "menu"),),),
            direction=self.conversation.direction(profile.lang),
        )
        return Outcome(replace(profile, step="ready"), (reply,))

    def cases_since(self, now: float) -> float:
        """Closed cases a new message reopens: those staff closed since this time (see :meth:`on_text`)."""
        return now - self.settings.reopen_hours * 3600

    async def on_text(
        self,
        profile: Profile,
        text: str,
        message_id: int,
        first_name: str | None,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None:
        """Text from the person: the question for a request, a follow-up in an open case, or None (not ours).
        ``has_case`` False: the flood gate found no case of the person (see :meth:`cases_since`), none is looked up."""
        is_emergency = self.conversation.is_emergency  # only where the text is ours: the common path skips it
        since = self.cases_since(now)
        active = reopenable = draft = None
        if has_case is not False:
            active, reopenable, draft = await self.store.situation(profile.user_id, message_id, since)
        if active is not None:
            if active.source == message_id:  # the question itself, processed again after a crash
                return Outcome(profile, ())
            return await self._relay(profile, active, message_id, now, text=text, emergency=is_emergency(text))
        if draft is not None:  # the question processed again after a crash: the same consent question
            centre = self.centre(draft)
            if centre is not None:
                reply = self.consent_reply(draft, centre, now, first_name)
                return Outcome(replace(profile, step="ready"), (reply,))
        if profile.step == "question":
            if is_emergency(text):
                return self.conversation.on_text(replace(profile, step="ready"), text)
            return await self._draft(profile, text, now, first_name, message_id)
        if reopenable is not None:
            return await self._reopen(profile, reopenable, message_id, now, text=text, emergency=is_emergency(text))
        return None

    async def on_media(
        self,
        profile: Profile,
        media: str,
        file_id: str | None,
        caption: str | None,
        message_id: int,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None:
        """A photo, document or voice message in an open case is relayed; other media there get a short note."""
        if has_case is False:
            return None
        active = await self.store.active(profile.user_id)
        if active is None:
            return None
        if media not in RELAYED_MEDIA or file_id is None:
            t = self.conversation.t(profile.lang)
            note = t.gettext("Only text, photos, documents and voice messages can be sent to the integration centre.")
            return Outcome(profile, (Reply(note, direction=self.conversation.direction(profile.lang)),))
        emergency = bool(caption) and self.conversation.is_emergency(caption or "")
        return await self._relay(
            profile, active, message_id, now, text=caption, media=media, file_id=file_id, emergency=emergency
        )

    async def on_edit(self, profile: Profile, text: str, message_id: int, edit_date: float) -> bool:
        """An edited message that was relayed: relay the edit too. False when it was never relayed."""
        key = f"u:{profile.user_id}:{message_id}"
        relayed = await self.store.delivery_ticket(key)
        if relayed is None:
            return False
        ticket = await self.store.get(relayed)
        if ticket is None or ticket.status == "deleted":
            return True
        label = self._user_label(ticket)
        payload = {"of": key, "text": text, "label": label}
        edit = Delivery(f"{key}:e{int(edit_date)}", tg(ticket.chat_id), "edit", payload, ticket.id)
        await self.store.enqueue([edit])
        return True

    async def _relay(
        self,
        profile: Profile,
        ticket: Ticket,
        message_id: int,
        now: float,
        *,
        text: str | None,
        media: str | None = None,
        file_id: str | None = None,
        emergency: bool = False,
    ) -> Outcome:
        key = f"u:{profile.user_id}:{message_id}"
        label = self._user_label(ticket)

        def deliveries(current: Ticket) -> list[Delivery]:
            out: list[Delivery] = []
            ack = {"chat_id": profile.user_id, "message_id": message_id}
            if media is not None:
                payload: dict[str, Any] = {"media": media, "file_id": file_id, "caption": text, "label": label}
                out.append(Delivery(key, tg(current.chat_id), "media", {**payload, "ack": ack}, current.id, emergency))
            else:
                relay = self._to_staff(current, key, text or "", translate=True)
                out.append(replace(relay, payload={**relay.payload, "label": label, "ack": ack}, urgent=emergency))
            if emergency:
                alert = (
                    "🚨 Notfallwörter in der Nachricht. Die Person hat sofort die Notrufnummern 112 und 110 "
                    "bekommen. Der Fall ist als dringend markiert."
                )
                out.append(replace(self._to_staff(current, f"{key}:sos", alert), urgent=True))
                if not ticket.urgent:
                    out.append(self._card(current))
                    out += self._webhook(current, "urgent", now)
            return out

        changes: dict[str, Any] = {"urgent": True} if emergency and not ticket.urgent else {}
        await self.store.change(ticket.id, ACTIVE, changes, deliveries, now)
        if not emergency:
            return Outcome(profile, ())
        outcome = self.conversation.on_text(profile, text or "")
        t = self.conversation.t(profile.lang)
        told = Reply(
            t.gettext("The integration centre has been told that it is urgent."),
            direction=self.conversation.direction(profile.lang),
        )
        return replace(outcome, replies=(*outcome.replies, told))

    async def _reopen(
        self, profile: Profile, ticket: Ticket, message_id: int, now: float, *, text: str, emergency: bool
    ) -> Outcome:
        def deliveries(current: Ticket) -> list[Delivery]:
            note = self._to_staff(current, f"t{current.id}:reopened:{current.version}", "↩ Die Person hat wieder "
                                  "geschrieben; der Fall ist wieder offen.")  # fmt: skip
            return [note, self._card(current), self._topic(current, "reopen"), *self._webhook(current, "reopened", now)]

        reopened = await self.store.change(
            ticket.id, ("closed",), {"status": "open", "closed_at": None, "closed_by": None}, deliveries, now
        )
        if reopened is None:
            return Outcome(profile, ())
        relayed = await self._relay(profile, reopened, message_id, now, text=text, emergency=emergency)
        t = self.conversation.t(profile.lang)
        again = t.gettext("Your case {case} is open again. Your message was sent to {centre}.").format(
            case=reopened.case, centre=self._centre_name(reopened)
        )
        return replace(
            relayed, replies=(Reply(again, direction=self.conversation.direction(profile.lang)), *relayed.replies)
        )

    async def _draft(
        self, profile: Profile, question: str, now: float, first_name: str | None, message_id: int
    ) -> Outcome:
        lang = self.dialogue.language(profile.lang)
        centre = self.centre_for(profile.city)
        assert centre is not None
        decision = self.dialogue.decide(question, lang, profile.city)
        candidates = tuple(dict.fromkeys(([decision.topic] if decision.topic else []) + list(decision.candidates)))
        new = NewTicket(
            user_id=profile.user_id,
            centre_id=centre.id,
            chat_id=centre.chat_id,
            lang=lang,
            city=profile.city,
            place=profile.place,
            question=question.strip()[:MAX_QUESTION],
            candidates=candidates[:3],
            shared_topics=profile.recent,
            source=message_id,
        )
        ticket = await self.store.draft(new, now)
        return Outcome(replace(profile, step="ready"), (self.consent_reply(ticket, centre, now, first_name),))

    def consent_reply(self, ticket: Ticket, centre: Centre, now: float, first_name: str | None = None) -> Reply:
        """Exactly what will be shared, who reads it, when they answer, and the question whether to send it."""
        t = self.conversation.t(ticket.lang)
        lang = ticket.lang
        # exactly what the staff will see (the card stores the name stripped, at most 64 characters)
        name = (first_name or "").strip()[:64] or t.gettext("your first name in Telegram")
        city = self._city_name(ticket, lang) or t.gettext("not given")
        lines = [
            t.gettext("This goes to {centre}:").format(centre=centre.name),
            "• " + t.gettext("First name: {name}").format(name=name),
            "• " + t.gettext("Language: {language}").format(language=self.knowledge.languages[lang].native),
            "• " + t.gettext("City: {city}").format(city=city),
            "• " + t.gettext("Your question: “{question}”").format(question=ticket.question or ""),
        ]
        if ticket.shared_topics:
            titles = ", ".join(
                self.dialogue.title(tid, lang) for tid in ticket.shared_topics if tid in self.knowledge.topics
            )
            lines.append(
                "• "
                + t.gettext("Only if you choose: the topics Lotse showed you last ({topics})").format(topics=titles)
            )
        lines += [
            t.gettext("Your phone number and your Telegram username are not shared."),
            t.gettext("The staff of {centre} read it and answer you here in this chat.").format(centre=centre.name),
            "",
            self.hours_text(centre, lang, now),
        ]
        walk_in = self.walk_in(ticket.city, lang)
        if walk_in:
            lines += ["", t.gettext("You can also go there without an appointment:"), walk_in]
        lines += ["", t.gettext("Shall I send it?")]
        rows: list[tuple[Button, ...]] = [(Button(t.gettext("✅ Yes, send it"), f"ho:yes:{ticket.id}"),)]
        if ticket.shared_topics:
            rows.append((Button(t.gettext("✅ Yes, with my last topics"), f"ho:all:{ticket.id}"),))
        rows.append((Button(t.gettext("✖ No, do not send"), f"ho:no:{ticket.id}"),))
        text = isolate_ltr("\n".join(lines), self.conversation.direction(lang))
        return Reply(
            text,
            title=t.gettext("Before I send it"),
            buttons=tuple(rows),
            direction=self.conversation.direction(lang),
            kind="consent",
        )

    async def consent(
        self, profile: Profile, ticket_id: int, choice: str, first_name: str | None, now: float
    ) -> Outcome:
        """The answer to the consent question: ``yes``, ``all`` (with the last topics) or ``no``."""
        t = self.conversation.t(profile.lang)
        direction = self.conversation.direction(profile.lang)
        if choice == "no":
            await self.store.discard(ticket_id, profile.user_id)
            return self.cancel(profile)

        def deliveries(ticket: Ticket) -> list[Delivery]:
            announce = Delivery(f"t{ticket.id}:announce", tg(ticket.chat_id), "announce", {}, ticket.id)
            return [announce, *self._webhook(ticket, "opened", now, with_question=True)]

        draft = await self.store.get(ticket_id)
        if draft is None or draft.user_id != profile.user_id:
            return Outcome(profile, (self._expired(profile),))
        changes: dict[str, Any] = {
            "status": "open",
            "opened_at": now,
            "first_name": (first_name or "").strip()[:64] or None,
            "shared_topics": draft.shared_topics if choice == "all" else (),
        }
        opened = await self.store.change(ticket_id, ("draft",), changes, deliveries, now)
        if opened is None:  # already sent (the same tap arrived twice), or expired
            active = await self.store.active(profile.user_id)
            reply = self._open_reply(active) if active is not None else self._expired(profile)
            return Outcome(profile, (reply,))
        more = t.gettext("Everything you write now goes to the integration centre. /end ends the conversation.")
        if await self.store.unreachable(opened.chat_id):  # the truth: received, not yet with the staff
            waiting = self.waiting_text(opened)
            return Outcome(profile, (Reply(f"{waiting}\n{more}", direction=direction, kind="sent"),))
        sent = t.gettext("Sent. Your case number is {case}. The answer comes here in this chat.").format(
            case=opened.case
        )
        return Outcome(profile, (Reply(f"{sent}\n{more}", direction=direction, kind="sent"),))

    async def unreachable(self, ticket_id: int, now: float) -> None:
        """The new case could not be announced because of the staff group's setup: the person learns the truth
        (once), with the walk-in addresses."""

        def deliveries(ticket: Ticket) -> list[Delivery]:
            if ticket.user_id is None or ticket.blocked:
                return []
            return [self._to_user(ticket, f"t{ticket.id}:waiting", self.waiting_text(ticket))]

        await self.store.change(ticket_id, ACTIVE, {}, deliveries, now)

    async def reached(self, ticket_id: int, now: float) -> None:
        """The case was announced after the person had been told it waits: now they learn it arrived."""
        if await self.store.delivery_ticket(f"t{ticket_id}:waiting") is None:
            return

        def deliveries(ticket: Ticket) -> list[Delivery]:
            if ticket.user_id is None or ticket.blocked:
                return []
            t = self.conversation.t(ticket.lang)
            text = t.gettext("Your question (case {case}) has now reached {centre}. The answer comes here in this "
                             "chat.").format(case=ticket.case, centre=self._centre_name(ticket))  # fmt: skip
            return [self._to_user(ticket, f"t{ticket.id}:reached", text)]

        await self.store.change(ticket_id, ACTIVE, {}, deliveries, now)

    async def end(self, profile: Profile, now: float) -> Outcome:
        """/end by the person: the case is closed and the staff are told."""
        t = self.conversation.t(profile.lang)
        active = await self.store.active(profile.user_id)
        if active is None:
            reply = Reply(
                t.gettext("You have no open conversation with the integration centre."),
                direction=self.conversation.direction(profile.lang),
            )
            return Outcome(profile, (reply,))

        def deliveries(ticket: Ticket) -> list[Delivery]:
            note = self._to_staff(
                ticket, f"t{ticket.id}:end:{ticket.version}", "Die Person hat den Fall beendet (/end)."
            )
            return [note, self._card(ticket), self._topic(ticket, "close"), *self._webhook(ticket, "closed", now)]

        changes = {"status": "closed", "closed_at": now, "closed_by": "user"}
        closed = await self.store.change(active.id, ACTIVE, changes, deliveries, now)
        case = (closed or active).case
        text = t.gettext("Your case {case} is closed. You can ask me anything again.").format(case=case)
        return Outcome(profile, (Reply(text, direction=self.conversation.direction(profile.lang)),))
