"""The topic menu, topic buttons, feedback, /help and /privacy."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.conversation import Outcome
from bot.telegram.services import apply, load_profile, services, show, tapped


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/menu and the menu button: topic areas."""
    await show(update, context, lambda conversation, profile: conversation.menu(profile.lang))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how Lotse works and the commands."""
    await show(update, context, lambda conversation, profile: conversation.help(profile.lang))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is stored and how to delete it."""
    await show(update, context, lambda conversation, profile: conversation.privacy(profile.lang))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``cat:<category>``, ``t:<topic>`` and ``fb:up|down:<topic>`` buttons."""
    kind, value = await tapped(update)
    profile = await load_profile(update, context)
    conversation = services(context).conversation
    if kind == "cat":
        outcome = Outcome(profile, (conversation.category(value, profile.lang, profile.city),))
    elif kind == "t":
        outcome = conversation.on_topic(profile, value)
    else:
        verdict, _, topic = value.partition(":")
        outcome = conversation.on_feedback(profile, topic, verdict == "up")
    await apply(update, context, outcome)
