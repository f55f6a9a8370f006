"""The topic menu, topic buttons, feedback, /help and /privacy."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.conversation import Outcome
from bot.telegram.services import apply, load_profile, services


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/menu and the menu button: topic areas."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    profile = await load_profile(update, context)
    await apply(update, context, Outcome(profile, (services(context).conversation.menu(profile.lang),)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how Lotse works and the commands."""
    profile = await load_profile(update, context)
    await apply(update, context, Outcome(profile, (services(context).conversation.help(profile.lang),)))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is stored and how to delete it."""
    profile = await load_profile(update, context)
    await apply(update, context, Outcome(profile, (services(context).conversation.privacy(profile.lang),)))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cat:<category>``, ``t:<topic>`` and ``fb:up|down:<topic>`` buttons."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    profile = await load_profile(update, context)
    conversation = services(context).conversation
    kind, _, value = query.data.partition(":")
    if kind == "cat":
        outcome = Outcome(profile, (conversation.category(value, profile.lang, profile.city),))
    elif kind == "t":
        outcome = conversation.on_topic(profile, value)
    else:
        verdict, _, topic = value.partition(":")
        outcome = conversation.on_feedback(profile, topic, verdict == "up")
    await apply(update, context, outcome)
