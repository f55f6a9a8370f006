"""Core buttons as Telegram keyboards: objects for python-telegram-bot's methods, and prebuilt JSON for the plain
``sendMessage`` of every reply (built once per distinct keyboard)."""

from __future__ import annotations

import functools
import json

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.replies import Button, Reply

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


def markup_json(reply: Reply) -> str | None:
    """The reply's keyboard as the JSON text Telegram reads in ``reply_markup`` (cached: menus repeat)."""
    return _markup_json(reply.buttons, reply.keyboard, reply.remove_keyboard)


@functools.lru_cache(maxsize=4096)
def _markup_json(
    buttons: tuple[tuple[Button, ...], ...], keyboard: tuple[tuple[Button, ...], ...], remove: bool
) -> str | None:
    found = markup(Reply("", buttons=buttons, keyboard=keyboard, remove_keyboard=remove))
    return None if found is None else json.dumps(found.to_dict(), ensure_ascii=False, separators=(",", ":"))
