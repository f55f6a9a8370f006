"""Questions in free text (also edited and forwarded ones), follow-ups in an open case, and /delete."""

from __future__ import annotations

from telegram import Update

from bot.core.replies import Outcome
from bot.telegram.services import LotseContext, answer_tap, apply, load_profile, send, services


async def text(update: Update, context: LotseContext) -> None:
    """Text goes to an open case, or to the core decision; emergencies were answered by the guard already."""
    message = update.effective_message
    assert message is not None and message.text is not None
    svc = services(context)
    profile = await load_profile(update, context)
    user = update.effective_user
    edited = None
    if update.edited_message is not None:
        edited = message.edit_date.timestamp() if message.edit_date else svc.clock()
    outcome = await svc.desk.on_text(
        profile,
        message.text,
        message_id=message.message_id,
        first_name=user.first_name if user is not None else None,
        now=svc.clock(),
        edited_at=edited,
        has_case=context.has_case,
    )
    await apply(update, context, outcome, before=profile)


async def not_emergency(update: Update, context: LotseContext) -> None:
    """The ``ne`` button under an emergency answer: answer the quoted message as an ordinary question."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    profile = await load_profile(update, context)
    quoted = getattr(query.message, "reply_to_message", None)
    outcome = await svc.desk.on_not_emergency(profile, quoted.text if quoted is not None else None)
    await apply(update, context, outcome, before=profile)


async def delete(update: Update, context: LotseContext) -> None:
    """/delete asks to confirm; the ``del:yes`` button erases the profile and the texts of the person's cases."""
    svc = services(context)
    conversation = svc.conversation
    query = update.callback_query
    if query is None:
        profile = await load_profile(update, context)
        await apply(update, context, Outcome(profile, (conversation.confirm_delete(profile.lang),)))
        return
    profile = await load_profile(update, context)
    if query.data == "del:yes":
        assert update.effective_user is not None
        user_id = update.effective_user.id
        await svc.desk.forget(user_id, svc.clock())
        await svc.profiles.delete(user_id)
        await answer_tap(update)
        await send(update, context, (conversation.deleted(profile.lang),))
    else:
        await apply(update, context, Outcome(profile, (conversation.kept(profile.lang),)))
