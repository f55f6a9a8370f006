"""What the handlers need, wired once in :func:`bot.telegram.app.build_application`."""

from __future__ import annotations

import logging
import secrets
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue
from telegram.warnings import PTBUserWarning

from bot.core.conversation import Conversation
from bot.core.desk import Desk
from bot.core.dialogue import Dialogue
from bot.core.gaps import Gap, day_of
from bot.core.handoff import Handoff
from bot.core.ports import (
    FeedbackStore,
    FloodGate,
    GapLog,
    Instances,
    JobTurns,
    ProfileStore,
    TurnEnd,
    UpdateQuarantine,
    VitalSigns,
)
from bot.core.replies import Outcome, Profile, Reply
from bot.telegram.keyboards import markup_json
from bot.telegram.observe import Metrics
from bot.telegram.render import to_html

log = logging.getLogger("lotse.telegram")
# ``_send`` uses do_api_request for sendMessage on purpose (no Message object built); python-telegram-bot warns.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)
KEY = "lotse"
AGAIN = "lotse-again"  # bot_data: ids of updates whose processing failed for a passing reason (the error handler)
URGENT_KEPT = 512


def instance_name() -> str:
    """Names this process in the database (a person's turn, the running instances): at most 21 characters, so that
    with ":<update id>" it fits users.busy_by (40)."""
    return f"{socket.gethostname()[:12]}-{secrets.token_hex(4)}"


@dataclass(slots=True)
class Held:
    """What an update in hand holds: the person's turn, and of its messages how many went out before its processing
    was cut off (``before``: left out now) and how many it has reached (``sent``, see ``send``)."""

    user_id: int
    holder: str
    before: int = 0
    sent: int = 0


@dataclass(slots=True)
class Services:
    """The conversation and the stores; no per-user state is kept here."""

    conversation: Conversation
    profiles: ProfileStore
    gate: FloodGate
    feedback: FeedbackStore
    staff_chat_ids: frozenset[int] = frozenset()
    admin_ids: frozenset[int] = frozenset()
    clock: Callable[[], float] = field(default=time.time)
    handoff: Handoff | None = None  # None without LOTSE_CENTRES: "talk to a person" shows contacts instead
    quarantine: UpdateQuarantine | None = None  # updates that could not be processed, without content
    jobs: JobTurns | None = None  # with several instances, one runs the periodic jobs per period
    vitals: VitalSigns | None = None  # counts for /healthz and /metrics
    instances: Instances | None = None  # the running instances share Telegram's overall rate
    gaps: GapLog | None = None  # the volunteers' worklist: questions Lotse could not answer well, without who asked
    reload: Callable[[], Dialogue] | None = None  # reads and checks the knowledge again (bot/telegram/reload.py)
    watch: Path | None = None  # the knowledge folder to watch for changes (None: only /reload)
    person_lease: float = 30.0  # seconds an instance holds a person's turn at most (LOTSE_PERSON_LEASE)
    instance: str = field(default_factory=instance_name)
    # The person's turn each update in hand holds (by update id; ended with the update, see ``finish``), and the
    # profile change of a message's answer, written in the same transaction (profile, as it was read).
    turns: dict[int, Held] = field(default_factory=dict)
    deferred: dict[int, tuple[Profile, Profile | None]] = field(default_factory=dict)
    # Updates whose emergency answer went out before their processing (by update id; the newest few hundred): when
    # the processing fails and the update comes again, the answer is not sent twice.
    urgent_sent: dict[int, None] = field(default_factory=dict)
    desk: Desk = field(init=False)  # where every message of a person arrives (with a do-nothing handoff if none)
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.desk = Desk(self.conversation, self.handoff)
        self.metrics = Metrics(self.conversation.knowledge.languages)

    async def finish(self, update_id: int, *, done: bool) -> None:
        """After an update's processing (its replies sent): end the person's turn; ``done``: record the update as
        processed to the end, so that Telegram sending it again changes nothing."""
        held = self.turns.get(update_id)
        pending = self.deferred.get(update_id)
        finished = update_id if done else None
        if pending is not None:
            profile, before = pending
            await self.profiles.save(profile, before, TurnEnd(held.holder, finished) if held is not None else None)
        elif held is not None:
            await self.gate.release(held.user_id, held.holder, done=finished)
        self.forget(update_id)

    def forget(self, update_id: int) -> None:
        """Drop what an update held in hand (its turn, its profile change), written or given up."""
        self.turns.pop(update_id, None)
        self.deferred.pop(update_id, None)

    def sent_urgently(self, update_id: int) -> None:
        self.urgent_sent[update_id] = None
        while len(self.urgent_sent) > URGENT_KEPT:
            del self.urgent_sent[next(iter(self.urgent_sent))]


class LotseContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """What one update carries through the handlers. python-telegram-bot makes one per update and hands it to every
    handler group, so the profile the guard read is there for the handler, and gone with the update."""

    def __init__(self, application: LotseApplication, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.profile_read = False  # the guard read the stored profile (``stored_profile``, None: nobody yet)
        self.stored_profile: Profile | None = None
        self.has_case: bool | None = None  # the guard found whether the person may have a case (None: not known)

    @property
    def services(self) -> Services:
        found: Services = self.application.bot_data[KEY]
        return found


LotseApplication = Application[
    ExtBot[None], LotseContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[LotseContext]
]
CONTEXT_TYPES = ContextTypes(context=LotseContext)


def services(context: LotseContext) -> Services:
    return context.services


async def load_profile(update: Update, context: LotseContext) -> Profile:
    """The sender's stored profile, or a new one in the Telegram client's language when Lotse has it."""
    svc = services(context)
    user = update.effective_user
    assert user is not None
    if context.profile_read:
        stored, context.profile_read = context.stored_profile, False
    else:
        stored = await svc.profiles.get(user.id)
    if stored is not None and stored.lang is not None:
        return stored
    lang = svc.conversation.supported(user.language_code)
    if stored is not None:
        return replace(stored, lang=lang)
    return Profile(user.id, lang=lang, step="language")


async def send(update: Update, context: LotseContext, replies: Sequence[Reply]) -> None:
    """Send replies in order; a user who blocked the bot (403) ends the sending quietly.

    An update whose processing is cut off after some of its messages went out (its instance died, a network error)
    is processed again from the start. So before its second and every later message, how many went out is written
    (with the person's turn), and processed again it leaves those out. One message (most answers) costs nothing."""
    chat = update.effective_chat
    if chat is None:
        return
    svc = services(context)
    if update.update_id in svc.urgent_sent:  # the guard sent the emergency answer already
        replies = [reply for reply in replies if reply.kind != "emergency"]
    # A reply that quotes the person's message (the emergency answer): its "not an emergency" button reads it there.
    asked = update.message.message_id if update.message is not None else None

    async def out(
        text: str, keyboard: str | None, quote: dict[str, object] | None = None, *, html: bool = True
    ) -> None:
        if await _gone_before(svc, update.update_id):
            return
        await _send(context.bot, chat.id, text, keyboard, quote, html=html)

    try:
        for reply in replies:
            messages = to_html(reply)
            # every part quotes, so the part with the buttons does too
            quote: dict[str, object] | None = None
            if reply.quote and asked:
                quote = {"message_id": asked, "allow_sending_without_reply": True}
            for index, html in enumerate(messages):
                last = index == len(messages) - 1
                if last and reply.buttons and reply.keyboard:
                    await out(html, markup_json(reply), quote)  # the inline buttons
                    label = reply.keyboard[0][0].label  # plain text, with the location keyboard
                    await out(label, markup_json(Reply(label, keyboard=reply.keyboard)), html=False)
                    continue
                await out(html, markup_json(reply) if last else None, quote)
    except Forbidden:
        log.info("delivery refused: the user blocked the bot")


async def _gone_before(svc: Services, update_id: int) -> bool:
    """Whether the update's next message went out before (left out now); else, from its second message on, how
    many went out is written first."""
    held = svc.turns.get(update_id)
    if held is None:
        return False
    sent, held.sent = held.sent, held.sent + 1
    if sent < held.before:
        return True
    if sent > held.before:
        await svc.gate.progress(held.user_id, held.holder, update_id, sent)
    return False


async def _send(
    bot: ExtBot[None],
    chat_id: int,
    text: str,
    keyboard: str | None,
    quote: dict[str, object] | None = None,
    *,
    html: bool = True,
) -> None:
    """``sendMessage`` without building the ``Message`` Telegram answers with (nothing reads it): the same request
    through the same rate limiter, errors raised alike."""
    kwargs: dict[str, object] = {"chat_id": chat_id, "text": text}
    if html:
        kwargs["parse_mode"] = ParseMode.HTML
    if keyboard is not None:
        kwargs["reply_markup"] = keyboard
    if quote is not None:
        kwargs["reply_parameters"] = quote
    await bot.do_api_request("sendMessage", api_kwargs=kwargs)


async def show(update: Update, context: LotseContext, build: Callable[[Conversation, Profile], Reply]) -> None:
    """Show the one reply ``build`` makes for the sender's profile (a tap is answered by :func:`apply`)."""
    profile = await load_profile(update, context)
    await apply(update, context, Outcome(profile, (build(services(context).conversation, profile),)), before=profile)


def tapped(update: Update) -> tuple[str, str]:
    """A button tap's data split ``kind:value`` (the tap is answered by :func:`apply`, after the database write)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    kind, _, value = query.data.partition(":")
    return kind, value


async def apply(update: Update, context: LotseContext, outcome: Outcome, before: Profile | None = None) -> None:
    """Store the outcome's profile (when it changed), record feedback, answer the tap, send its replies.

    A tap is answered only after the database write: until then the person's button keeps its spinner, and when the
    write fails (or the process dies) the update is processed again and the tap is answered then. A message's
    profile change is written after its replies, with the end of the person's turn (one transaction, see
    ``Services.finish``); a crash before it means Telegram sends the message again."""
    svc = services(context)
    if outcome.profile != before:
        uid = update.update_id
        if update.callback_query is None and uid in svc.turns:
            first = svc.deferred.get(uid)  # a second change in the same update: both, from what was read
            svc.deferred[uid] = (outcome.profile, first[1] if first is not None else before)
        else:
            await svc.profiles.save(outcome.profile, before)
    if outcome.decision is not None:
        svc.metrics.decided(outcome.decision.kind, outcome.decision.lang)
    if outcome.feedback is not None:
        topic, verdict = outcome.feedback
        await svc.feedback.record(topic, outcome.profile.lang or "en", verdict == "up")
    await answer_tap(update)
    await send(update, context, outcome.replies)
    if svc.gaps is not None and (outcome.gap is not None or outcome.resolved is not None):
        await _worklist(svc, outcome.gap, outcome.resolved)


async def _worklist(svc: Services, gap: Gap | None, resolved: str | None) -> None:
    """Keep a gap for the worklist, or erase a clarify's gap the person answered by choosing, after the replies
    went out; a database that is away loses it (the person's answer must not wait for it, nor be sent again)."""
    assert svc.gaps is not None
    try:
        if resolved is not None:
            await svc.gaps.resolve(resolved)
        if gap is not None:
            await svc.gaps.record(replace(gap, day=day_of(svc.clock())))
    except Exception as exc:
        log.warning("the gaps worklist was not updated (%s)", type(exc).__name__)


async def answer_tap(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Stop a tapped button's spinner. Telegram refuses answers to taps older than about 15 seconds (a tap processed
    again after an outage); nothing is lost by that, so the refusal is ignored."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text, show_alert=alert)
        except TelegramError as exc:
            log.info("update %s: the tap could not be answered (%s)", update.update_id, type(exc).__name__)
