"""Questions in free text (also edited and forwarded ones) and the way to a person."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.conversation import Outcome
from bot.telegram.services import apply, load_profile, send, services


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text goes to the core decision; emergencies are answered before anything else."""
    message = update.effective_message
    assert message is not None and message.text is not None
    profile = await load_profile(update, context)
    conversation = services(context).conversation
    outcome = conversation.on_text(profile, message.text)
    if outcome.handoff:
        outcome = conversation.on_human(outcome.profile)
    await apply(update, context, outcome, before=profile)


async def human(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/human or the "Talk to a person" button."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    profile = await load_profile(update, context)
    await apply(update, context, services(context).conversation.on_human(profile))


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete asks to confirm; the ``del:yes`` button erases the profile."""
    conversation = services(context).conversation
    query = update.callback_query
    if query is None:
        profile = await load_profile(update, context)
        await apply(update, context, Outcome(profile, (conversation.confirm_delete(profile.lang),)))
        return
    await query.answer()
    profile = await load_profile(update, context)
    if query.data == "del:yes":
        assert update.effective_user is not None
        await services(context).profiles.delete(update.effective_user.id)
        await send(update, context, (conversation.deleted(profile.lang),))
    else:
        await apply(update, context, Outcome(profile, (conversation.kept(profile.lang),)))
