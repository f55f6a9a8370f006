"""Voice, photos, videos, stickers, documents and contacts: a kind word on what Lotse can do instead."""

from __future__ import annotations

from telegram import Update

from bot.core.replies import MediaKind
from bot.telegram.services import LotseContext, apply, load_profile, services


def _kind(update: Update) -> MediaKind:
    message = update.effective_message
    assert message is not None
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.photo:
        return "photo"
    if message.video or message.animation:
        return "video"
    if message.sticker:
        return "sticker"
    if message.document:
        return "document"
    if message.contact:
        return "contact"
    return "other"


def _file_id(update: Update) -> str | None:
    message = update.effective_message
    assert message is not None
    if message.photo:
        return message.photo[-1].file_id  # the largest size
    if message.document:
        return message.document.file_id
    if message.voice:
        return message.voice.file_id
    return None


async def media(update: Update, context: LotseContext) -> None:
    """Anything that is not text, a command or a location; photos, documents and voice go to an open case."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    profile = await load_profile(update, context)
    outcome = await svc.desk.on_media(
        profile,
        _kind(update),
        voice=bool(message.voice),
        file_id=_file_id(update),
        caption=message.caption,
        message_id=message.message_id,
        now=svc.clock(),
        edited=update.edited_message is not None,
        has_case=context.has_case,
    )
    await apply(update, context, outcome)  # stored even when unchanged: a first message may be a sticker
