"""The topic menu, topic buttons, feedback, /help and /privacy."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.core.replies import Outcome
from bot.telegram.services import LotseContext, apply, load_profile, services, show, tapped


async def menu(update: Update, context: LotseContext) -> None:
    """/menu and the menu button: topic areas."""
    await show(update, context, lambda conversation, profile: conversation.menu(profile.lang))


async def help_command(update: Update, context: LotseContext) -> None:
    """/help: how Lotse works and the commands."""
    await show(update, context, lambda conversation, profile: conversation.help(profile.lang))


async def privacy(update: Update, context: LotseContext) -> None:
    """/privacy: what is stored and how to delete it."""
    await show(update, context, lambda conversation, profile: conversation.privacy(profile.lang))


async def button(update: Update, context: LotseContext) -> None:
    """``cat:<category>``, ``t:<topic>``, ``fb:up|down:<topic>``, ``more:<topic>``, ``de:<topic>`` (German)."""
    kind, value = tapped(update)
    profile = await load_profile(update, context)
    conversation = services(context).conversation
    if kind == "cat":
        outcome = Outcome(profile, (conversation.category(value, profile.lang, profile.city),))
    elif kind == "t":
        outcome = conversation.on_topic(profile, value)
    elif kind == "de":
        outcome = conversation.in_german(profile, value)
    elif kind == "more":
        outcome = conversation.on_more(profile, value)
    else:
        verdict, _, topic = value.partition(":")
        outcome = conversation.on_feedback(profile, topic, verdict == "up")
        await _drop_feedback_buttons(update)  # one vote per answer
    await apply(update, context, outcome)


async def _drop_feedback_buttons(update: Update) -> None:
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = [
        [b for b in row if not str(b.callback_data or "").startswith("fb:")]
        for row in message.reply_markup.inline_keyboard
    ]
    with contextlib.suppress(TelegramError):
        await message.edit_reply_markup(InlineKeyboardMarkup([row for row in rows if row]))
