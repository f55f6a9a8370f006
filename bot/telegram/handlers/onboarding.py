"""Onboarding and settings: /start, /language, /city, language and city buttons, shared location."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from bot.telegram.services import LotseContext, apply, load_profile, services, show, tapped


async def start(update: Update, context: LotseContext) -> None:
    """Greet in the client's language when Lotse has it; otherwise offer the language picker."""
    svc = services(context)
    user = update.effective_user
    assert user is not None
    stored = await svc.profiles.get(user.id)
    await apply(update, context, svc.conversation.on_start(stored, user.id, user.language_code))


async def language(update: Update, context: LotseContext) -> None:
    """Show the language picker."""
    await show(update, context, lambda conversation, profile: conversation.language_picker(profile.lang))


async def city(update: Update, context: LotseContext) -> None:
    """Show the city picker."""
    await show(update, context, lambda conversation, profile: conversation.city_picker(profile.lang))


async def chosen(update: Update, context: LotseContext) -> None:
    """A language (``lang:xx``), city (``city:slug``) or confirmed town (``place:id``) button."""
    kind, value = tapped(update)
    profile = await load_profile(update, context)
    conversation = services(context).conversation
    if kind == "lang":
        outcome = conversation.on_language(profile, value)
    else:
        if profile.lang is None:
            profile = replace(profile, lang="en")
        outcome = conversation.on_place(profile, value) if kind == "place" else conversation.on_city(profile, value)
    await apply(update, context, outcome)


async def town(update: Update, context: LotseContext) -> None:
    """ "Type my town": the next message is read as a town's name."""
    profile = await load_profile(update, context)
    if profile.lang is None:
        profile = replace(profile, lang="en")
    await apply(update, context, services(context).conversation.on_town(profile))


async def location(update: Update, context: LotseContext) -> None:
    """A shared location picks the nearest city."""
    message = update.effective_message
    assert message is not None and message.location is not None
    profile = await load_profile(update, context)
    outcome = services(context).conversation.on_location(profile, message.location.latitude, message.location.longitude)
    await apply(update, context, outcome)
