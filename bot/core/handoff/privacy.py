"""Privacy in the handoff: /delete and retention erase a case's personal data, in the database and the group."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.handoff.base import HandoffBase
from bot.core.handoff.model import ACTIVE, Delivery, Ticket, retention_cutoffs, tg


class Privacy(HandoffBase):
    """/delete and the retention job."""

    async def forget(self, user_id: int, now: float) -> list[str]:
        """/delete: erase the texts of the person's tickets and the relay records; the staff are told."""

        def deliveries(ticket: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
            note = (
                f"🗑 Fall #{ticket.case}: Die Person hat ihre Daten gelöscht (/delete). Der Fall ist geschlossen; "
                "Frage, Vorname und weitergeleitete Nachrichten sind gelöscht."
            )
            return self._wipe(ticket, copies, note) + self._webhook(ticket, "deleted", now)

        return await self.store.erase(user_id, deliveries, now)

    def _wipe(self, ticket: Ticket, copies: Sequence[tuple[int, int]], note: str) -> list[Delivery]:
        """What removes a case's personal data from the staff group, and the note that says so. In a forum the
        case's topic goes with everything in it (Telegram deletes a topic at any age, single messages only for 48
        hours); elsewhere the card is rewritten and each relayed message deleted, or overwritten where Telegram no
        longer deletes it."""
        told = Delivery(f"t{ticket.id}:wiped", tg(ticket.chat_id), "message", {"text": note}, ticket.id)
        if ticket.thread_id is not None:
            topic = Delivery(f"t{ticket.id}:topic:wipe", tg(ticket.chat_id), "topic", {"state": "delete"}, ticket.id)
            return [topic, told]
        out = [self._card(ticket), told]
        for index, (chat_id, message_id) in enumerate(copies):
            payload = {"chat_id": chat_id, "message_id": message_id}
            out.append(Delivery(f"t{ticket.id}:del:{index}", tg(chat_id), "delete", payload, ticket.id))
        return out

    async def purge(self, now: float) -> dict[str, int]:
        """Retention: the personal data of cases closed longer than ``retention_days`` ago, and of cases still open
        that were opened longer ago (they are closed; the person and the staff are told), are erased, in the
        database and in the staff group; unconfirmed requests go after ``draft_hours``. Driven by timestamps in
        the database, so a restart only delays it."""
        closed_before, drafts_before = retention_cutoffs(self.settings, now)
        days = self.settings.retention_days

        def deliveries(ticket: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
            out: list[Delivery] = []
            if ticket.status in ACTIVE:
                note = (f"🗑 Fall #{ticket.case} war länger als {days} Tage offen und ist jetzt geschlossen. Frage, "
                        "Vorname und weitergeleitete Nachrichten sind gelöscht (Aufbewahrungsfrist).")  # fmt: skip
                if ticket.user_id is not None and not ticket.blocked:
                    t = self.conversation.t(ticket.lang)
                    text = t.gettext(
                        "Your case {case} was open for more than {days} days. It is now closed and its data are "
                        "deleted. If you still need help, write /human."
                    ).format(case=ticket.case, days=days)
                    out.append(self._to_user(ticket, f"t{ticket.id}:expired", text))
            else:
                note = (f"🗑 Fall #{ticket.case}: Frage, Vorname und weitergeleitete Nachrichten sind nach {days} "
                        "Tagen gelöscht (Aufbewahrungsfrist).")  # fmt: skip
            return out + self._wipe(ticket, copies, note)

        return await self.store.purge(closed_before, drafts_before, now, deliveries)
