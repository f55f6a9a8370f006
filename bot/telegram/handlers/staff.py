"""The staff group: ticket buttons, replies relayed to the person, /send, /tr, /tickets, /stats.

Only members of a configured staff group can act: updates from other groups never get here (the guard drops them),
a ticket can only be changed from its own centre's group, and the acting person must still be a member.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.core.handoff import Handoff, StaffAction, StaffMessage
from bot.telegram.services import LotseContext, answer_tap, services

log = logging.getLogger("lotse.staff")
MEMBERS = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER,
           ChatMemberStatus.RESTRICTED}  # fmt: skip
ACTIONS: dict[str, StaffAction] = {"take": "take", "urgent": "urgent", "close": "close", "reopen": "reopen"}


def _handoff(context: LotseContext) -> Handoff:
    handoff = services(context).handoff
    assert handoff is not None  # staff handlers are registered only with centres
    return handoff


async def is_member(context: LotseContext, chat_id: int, user_id: int) -> bool:
    """Whether ``user_id`` is (still) a member of the staff group ``chat_id``."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in MEMBERS


def _staff_message(message: Message, name: str) -> StaffMessage:
    reply_to = message.reply_to_message
    thread = message.message_thread_id if message.is_topic_message else None
    # In a forum, a message in a topic "replies" to the topic's first message; only a real reply counts.
    reply_id = reply_to.message_id if reply_to is not None and reply_to.message_id != thread else None
    media, file_id = None, None
    if message.photo:
        media, file_id = "photo", message.photo[-1].file_id
    elif message.document:
        media, file_id = "document", message.document.file_id
    elif message.voice:
        media, file_id = "voice", message.voice.file_id
    created = reply_to.forum_topic_created if reply_to is not None else None
    return StaffMessage(
        topic_name=created.name if created is not None and thread is not None else None,
        chat_id=message.chat_id,
        message_id=message.message_id,
        staff_name=name,
        thread_id=thread,
        reply_to=reply_id,
        text=message.text if media is None else message.caption,
        media=media,  # type: ignore[arg-type]
        file_id=file_id,
    )


async def button(update: Update, context: LotseContext) -> None:
    """``tk:<action>:<ticket>``: take, mark urgent, close, reopen."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, action, ticket = query.data.split(":", 2)
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or action not in ACTIONS or not ticket.isdecimal():
        await answer_tap(update)
        return
    if not await is_member(context, chat.id, user.id):
        await answer_tap(update, "Nur Mitarbeitende dieser Stelle können Fälle bearbeiten.", alert=True)
        return
    svc = services(context)
    answer = await _handoff(context).staff_action(int(ticket), ACTIONS[action], chat.id, user.first_name, svc.clock())
    await answer_tap(update, answer)  # after the database write


async def command(update: Update, context: LotseContext) -> None:
    """/take, /urgent, /close, /reopen in a ticket's topic (or as a reply to it); /send, /tr, /tickets, /stats."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    if not await is_member(context, message.chat_id, user.id):
        return
    handoff = _handoff(context)
    now = services(context).clock()
    name = message.text.split()[0].lstrip("/").split("@")[0].lower()
    argument = message.text.partition(" ")[2].strip()
    staff = _staff_message(message, user.first_name)
    if name == "tickets":
        await handoff.list_tickets(staff, now)
    elif name == "stats":
        await handoff.stats(staff, now)
    elif name == "send":
        await handoff.send_topic(staff, argument, now)
    elif name == "tr":
        await handoff.send_translated(staff, argument, now)
    elif name in ACTIONS:
        ticket = await handoff.ticket_for(staff)
        if ticket is not None:
            await handoff.staff_action(ticket.id, ACTIONS[name], message.chat_id, user.first_name, now)


async def relay(update: Update, context: LotseContext) -> None:
    """Staff wrote in a ticket's topic or replied to it: the person gets it, labelled with the centre's name."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or user.is_bot:
        return
    handoff = _handoff(context)
    now = services(context).clock()
    if update.edited_message is not None:
        if message.text:
            edited = message.edit_date.timestamp() if message.edit_date else now
            await handoff.staff_edit(message.chat_id, message.message_id, message.text, edited)
        return
    await handoff.staff_message(_staff_message(message, user.first_name), now)
