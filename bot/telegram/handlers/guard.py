"""Runs before every handler: answers emergencies first, ignores foreign group chats, slows down floods."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.core.ports import Admitted, StoreUnavailableError, Turn
from bot.core.replies import Outcome, Profile
from bot.telegram.services import Held, LotseContext, Services, answer_tap, load_profile, send, services

log = logging.getLogger("lotse.telegram")
PROFILE_WAIT = 1.0  # seconds the emergency answer waits for the person's profile (language, city) at most


async def guard(update: Update, context: LotseContext) -> None:
    """Stop updates from groups that are not staff groups, and a person's messages beyond their budget."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:  # e.g. a tap on a message Telegram no longer shows
        await _answer(update)
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE:
        if chat.id not in svc.staff_chat_ids:
            # A group's id is no personal data; it is what an administrator needs for LOTSE_CENTRES.
            log.info("ignored an update from group %s (not a staff group in LOTSE_CENTRES)", chat.id)
            await _answer(update)
            raise ApplicationHandlerStop
        await _check_tap(update)
        return
    await _check_tap(update)
    message = update.message
    if message is not None and message.text and svc.conversation.is_emergency(message.text):
        # Emergencies always pass the flood gate; the rest of their processing (an open case is told) goes on.
        await _emergency_first(update, context, message.text)
        return
    if _deletion(update):  # a person can always erase their data, however fast they typed before
        return
    verdict, stored, has_case, _ = await _admit(update, svc, user.id)
    if verdict == "ok":
        context.profile_read, context.stored_profile, context.has_case = True, stored, has_case
        return
    await _answer(update)  # a tap beyond the budget is still answered, or the person's button keeps spinning
    if verdict == "done":
        raise ApplicationHandlerStop
    if verdict == "warn":
        profile = await load_profile(update, context)
        outcome: Outcome = svc.conversation.slow_down(profile)
        await send(update, context, outcome.replies)
    raise ApplicationHandlerStop


async def _admit(update: Update, svc: Services, user_id: int) -> Admitted:
    """The flood gate, the profile, whether the person may have a case, and the person's turn, in one transaction:
    while another instance processes an update of the same person, wait (polling the database, 20 ms doubling to
    0.5 s) until it is done or its lease ran out."""
    turn = Turn(f"{svc.instance}:{update.update_id}", svc.person_lease, update.update_id)
    wait = 0.02
    while True:
        now = svc.clock()
        admitted = await svc.gate.admit(user_id, now, turn, svc.desk.cases_since(now))
        if admitted.verdict != "busy":
            break
        await asyncio.sleep(wait)
        wait = min(wait * 2, 0.5)
    if admitted.verdict == "ok":
        # with the messages that went out before its processing was cut off
        svc.turns[update.update_id] = Held(user_id, turn.holder, admitted.sent)
    elif admitted.verdict == "done":
        log.info("update %s: processed before (sent again); skipped", update.update_id)
    return admitted


async def _emergency_first(update: Update, context: LotseContext, text: str) -> None:
    """The emergency answer goes out before anything is written, and without waiting for a database that is slow,
    locked or down: the stored profile if it comes within a second, else the Telegram client's language."""
    svc = services(context)
    if update.update_id in svc.urgent_sent:  # processed again after a failure: answered already
        return
    try:
        profile = await asyncio.wait_for(load_profile(update, context), PROFILE_WAIT)
    except (StoreUnavailableError, TimeoutError):
        user = update.effective_user
        assert user is not None
        profile = Profile(user.id, lang=svc.conversation.supported(user.language_code), step="ready")
        log.warning("update %s: emergency answered without the stored profile (database unavailable)",
                    update.update_id)  # fmt: skip
    outcome = svc.conversation.on_text(profile, text)
    await send(update, context, [r for r in outcome.replies if r.kind == "emergency"])
    svc.sent_urgently(update.update_id)
    svc.metrics.emergency(profile.lang)


async def _check_tap(update: Update) -> None:
    """A tap must carry the data of one of its message's buttons: anything else was forged or is stale."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    if query.data is None or (isinstance(message, Message) and query.data not in _buttons(message)):
        log.warning("update %s: a tap with data that is not on its message; ignored", update.update_id)
        await _answer(update)
        raise ApplicationHandlerStop


def _deletion(update: Update) -> bool:
    """/delete or its confirmation buttons."""
    query, message = update.callback_query, update.message
    if query is not None:
        return (query.data or "").startswith("del:")
    words = (message.text or "").split() if message is not None else []
    return bool(words) and words[0].split("@")[0] == "/delete"


def _buttons(message: Message) -> set[str]:
    markup = message.reply_markup
    if markup is None:
        return set()
    return {str(b.callback_data) for row in markup.inline_keyboard for b in row if b.callback_data is not None}


async def _answer(update: Update) -> None:
    await answer_tap(update)


async def unknown_tap(update: Update, context: LotseContext) -> None:
    """Last of all handlers: a tap no handler took (an old button of an earlier version) is answered all the same."""
    log.info("update %s: a tap no handler takes; answered", update.update_id)
    await _answer(update)
