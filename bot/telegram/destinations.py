"""Staff groups checked at start and every hour: can Lotse post there, open forum topics, delete its messages? And
telling the administrators (:func:`tell_admins`).

A wrong chat id, a bot that is not a member or lacks *Manage topics* used to lose cases silently. The check tells
the log and the administrators (``LOTSE_ADMIN_IDS``) in one line per problem what to fix; deliveries that fail for
such a reason stay pending in the outbox and go out once it is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, ChatMemberAdministrator, ChatMemberOwner
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger("lotse.telegram")

# Telegram's answers when a staff group is set up wrongly: fixable by an administrator, never a reason to give up.
SETUP_ERRORS = (
    "chat not found",
    "not enough rights",
    "chat_admin_required",
    "need administrator rights",
    "have no rights",
    "bot is not a member",
    "bot was kicked",
    "topic_closed",
    "method is available only for supergroups",
)


def is_setup_error(reason: str) -> bool:
    """Whether a refusal from Telegram is a staff group's setup problem (rights, membership, the id)."""
    lowered = reason.lower()
    return any(marker in lowered for marker in SETUP_ERRORS)


async def check_group(bot: Bot, chat_id: int) -> list[str]:
    """What is wrong with one staff group, in words an administrator can act on (empty when all is well)."""
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramError as exc:
        return [f"staff group {chat_id}: not reachable ({exc.message}); check the chat id and add the bot to the group"]
    problems: list[str] = []
    if chat.type != "supergroup":
        problems.append(f"staff group {chat_id}: is a {chat.type}, not a supergroup; Lotse needs a supergroup")
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        return [*problems, f"staff group {chat_id}: the bot's membership cannot be read ({exc.message})"]
    if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return [*problems, f"staff group {chat_id}: the bot is not a member; add it again"]
    if isinstance(member, ChatMemberOwner):
        return problems
    if not isinstance(member, ChatMemberAdministrator):
        return [*problems, f"staff group {chat_id}: the bot is no administrator; make it one (post, delete, topics)"]
    if getattr(chat, "is_forum", False) and not member.can_manage_topics:
        problems.append(f"staff group {chat_id}: the bot lacks the right 'Manage topics'; cases cannot get topics")
    if not member.can_delete_messages:
        problems.append(f"staff group {chat_id}: the bot lacks the right 'Delete messages'; /delete cannot erase")
    return problems


async def check_groups(bot: Bot, chat_ids: Iterable[int], admin_ids: Iterable[int]) -> list[str]:
    """Check every staff group; log each problem and send the list to the administrators."""
    problems = [problem for chat_id in sorted(chat_ids) for problem in await check_group(bot, chat_id)]
    for problem in problems:
        log.error("%s", problem)
    if problems:
        text = "Lotse: staff groups need attention\n" + "\n".join(f"- {p}" for p in problems)
        await tell_admins(bot, admin_ids, text, "the staff groups")
    return problems


async def tell_admins(bot: Bot, admin_ids: Iterable[int], text: str, what: str) -> None:
    """Send ``text`` (plain text: file names and group ids are not markup) to every administrator; one who never
    started the bot, or blocked it, is skipped with a log line naming ``what`` they were not told about."""
    for admin in sorted(admin_ids):
        try:
            await bot.send_message(admin, text[:4000])
        except TelegramError as exc:
            log.warning("administrator %s not told about %s (%s)", admin, what, type(exc).__name__)
