"""The person's side of the handoff: "Talk to a person", the consent buttons, /end."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.replies import Outcome, Profile
from bot.telegram.services import Services, apply, load_profile, services, tapped


async def request(svc: Services, profile: Profile) -> Outcome:
    """The way to a person: the handoff when centres are configured, else the contacts of the city."""
    if svc.handoff is None:
        return svc.conversation.on_human(profile)
    return await svc.handoff.request(profile)


async def human(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/human or the "Talk to a person" button."""
    profile = await load_profile(update, context)
    await apply(update, context, await request(services(context), profile), before=profile)


async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ho:cancel``, ``ho:yes:<ticket>``, ``ho:all:<ticket>`` (with the last topics), ``ho:no:<ticket>``."""
    _, value = tapped(update)
    svc = services(context)
    profile = await load_profile(update, context)
    choice, _, ticket = value.partition(":")
    if svc.handoff is None or choice == "cancel" or not ticket.isdecimal():
        outcome = svc.handoff.cancel(profile) if svc.handoff is not None else svc.conversation.on_human(profile)
    else:
        user = update.effective_user
        first_name = user.first_name if user is not None else None
        outcome = await svc.handoff.consent(profile, int(ticket), choice, first_name, svc.clock())
    await apply(update, context, outcome, before=profile)


async def end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/end: close the open case."""
    svc = services(context)
    profile = await load_profile(update, context)
    if svc.handoff is None:
        await apply(update, context, svc.conversation.on_human(profile), before=profile)
        return
    await apply(update, context, await svc.handoff.end(profile, svc.clock()), before=profile)
