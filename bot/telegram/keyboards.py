"""Core buttons as Telegram keyboards."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.replies import Reply

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def markup(reply: Reply) -> Markup:
    """The keyboard for a reply: inline buttons, a location request keyboard, or removal of it."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons]
        )
    if reply.keyboard:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(b.label, request_location=b.request_location) for b in row] for row in reply.keyboard],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None
