"""The person's side of the handoff: "Talk to a person", the consent buttons, /end."""

from __future__ import annotations

from telegram import Update

from bot.telegram.services import LotseContext, apply, load_profile, services, tapped


async def human(update: Update, context: LotseContext) -> None:
    """/human or the "Talk to a person" button."""
    profile = await load_profile(update, context)
    await apply(update, context, await services(context).desk.on_human(profile), before=profile)


async def consent(update: Update, context: LotseContext) -> None:
    """``ho:cancel``, ``ho:yes:<ticket>``, ``ho:all:<ticket>`` (with the last topics), ``ho:no:<ticket>``."""
    _, value = tapped(update)
    svc = services(context)
    profile = await load_profile(update, context)
    user = update.effective_user
    first_name = user.first_name if user is not None else None
    outcome = await svc.desk.on_consent(profile, value, first_name, svc.clock())
    await apply(update, context, outcome, before=profile)


async def end(update: Update, context: LotseContext) -> None:
    """/end: close the open case."""
    svc = services(context)
    profile = await load_profile(update, context)
    await apply(update, context, await svc.desk.on_end(profile, svc.clock()), before=profile)
