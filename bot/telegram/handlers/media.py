"""Voice, photos, videos, stickers, documents and contacts: a kind word on what Lotse can do instead."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.conversation import MediaKind
from bot.telegram.services import apply, load_profile, services


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


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything that is not text, a command or a location."""
    profile = await load_profile(update, context)
    await apply(update, context, services(context).conversation.on_media(profile, _kind(update)))
