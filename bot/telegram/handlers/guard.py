"""Runs before every handler: ignores foreign group chats, slows down floods (emergencies always pass)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.conversation import Outcome
from bot.telegram.services import load_profile, send, services

log = logging.getLogger("lotse.telegram")


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from groups that are not staff groups, and a person's messages beyond their budget."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE:
        if chat.id not in svc.staff_chat_ids:
            # A group's id is no personal data; it is what an administrator needs for LOTSE_CENTRES.
            log.info("ignored an update from group %s (not a staff group in LOTSE_CENTRES)", chat.id)
            raise ApplicationHandlerStop
        return
    verdict, stored = await svc.gate.admit(user.id, svc.clock())
    if verdict == "ok":
        svc.preloaded[update.update_id] = stored
        return
    message = update.effective_message
    if message is not None and message.text and svc.conversation.is_emergency(message.text):
        svc.preloaded[update.update_id] = stored
        return
    if verdict == "warn":
        profile = await load_profile(update, context)
        outcome: Outcome = svc.conversation.slow_down(profile)
        await send(update, context, outcome.replies)
    raise ApplicationHandlerStop


async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After all handlers: forget what the guard read for this update."""
    services(context).preloaded.pop(update.update_id, None)
