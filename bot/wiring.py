"""The one place that assembles Lotse: knowledge and matcher, stores, conversation, handoff, Telegram application.

``python -m bot run`` and ``chat`` and the end-to-end tests build the bot here, so they cannot drift apart.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config
from bot.core.centres import Centres
from bot.core.dialogue import Dialogue
from bot.core.handoff import HandoffSettings
from bot.core.hybrid import cache_key, load_or_train
from bot.core.semantic import load_embedder
from bot.core.start_cache import checked_knowledge, detector

if TYPE_CHECKING:  # the database and Telegram are loaded only by what serves Telegram (not by ask, check, chat)
    from sqlalchemy import Engine

    from bot.storage.stores import SqlStores
    from bot.storage.tickets import SqlTickets
    from bot.telegram.app import TelegramSettings
    from bot.telegram.outbox import OutboxSettings
    from bot.telegram.services import LotseApplication, Services
    from bot.webapi import Hook, LibreTranslate


def load_dialogue(config: Config, knowledge_dir: Path | None = None) -> Dialogue:
    """The knowledge, its matcher (trained once per knowledge version, then read from the cache) and the catalogs.
    A restart with unchanged knowledge reads the checked knowledge and the emergency detector from the cache too.

    Python's cycle collector is paused meanwhile: what is read here lives as long as the process, and collecting
    while hundreds of thousands of its objects are made took half of a restart's loading time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_dialogue(config, knowledge_dir or config.knowledge_dir, collecting)
    finally:
        if collecting:
            gc.enable()


def _load_dialogue(config: Config, knowledge_dir: Path, collecting: bool) -> Dialogue:
    knowledge = checked_knowledge(knowledge_dir, config.cache_dir)
    embedder = load_embedder(config.embeddings) if config.embeddings else None

    def training() -> None:
        if collecting:  # training makes and drops much more than it keeps: collected as usual
            gc.enable()
        print("Learning the knowledge (once after every change of it, 10 s or more) ...", file=sys.stderr, flush=True)

    key = cache_key(knowledge, config.match, embedder)
    hybrid = load_or_train(knowledge, config.match, config.cache_dir, embedder, on_train=training, key=key)
    index = hybrid.index
    found = detector(knowledge, index.knows, index.stopwords, config.cache_dir, key)
    return Dialogue(knowledge, index, config.locales_dir, hybrid, found)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """Everything that decides how the bot behaves, apart from the knowledge and the database."""

    centres: Centres | None = None  # None: no handoff ("talk to a person" shows the city's contacts)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    outbox: OutboxSettings | None = None  # None: the defaults
    hooks: dict[str, Hook] = field(default_factory=dict)
    translator: LibreTranslate | None = None
    admin_ids: frozenset[int] = frozenset()
    person_lease: float = 30.0  # seconds an instance holds a person's turn at most
    clock: Callable[[], float] | None = None  # tests move time
    reload: Callable[[], Dialogue] | None = None  # reads and checks the knowledge again (live reload, /reload)
    watch: Path | None = None  # the knowledge folder watched for changes (None: only /reload)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assembled:
    """The parts of one bot process."""

    application: LotseApplication
    services: Services
    stores: SqlStores
    tickets: SqlTickets


def setup_from(config: Config, centres: Centres | None) -> Setup:
    """The setup ``python -m bot run`` reads from the environment (``centres`` already loaded and checked)."""
    from bot.telegram.outbox import OutboxSettings
    from bot.webapi import Hook, LibreTranslate

    hooks = {
        centre.id: Hook(centre.webhook.url, config.secret(centre.webhook.secret_env))
        for centre in (centres.by_id.values() if centres else ())
        if centre.webhook is not None
    }
    limit, window = config.group_rate
    return Setup(
        centres=centres,
        handoff=HandoffSettings(reopen_hours=config.reopen_hours, retention_days=config.retention_days),
        outbox=OutboxSettings(group_limit=limit, group_window=window, lease=config.outbox_lease),
        hooks=hooks,
        translator=LibreTranslate(config.translate_url, config.translate_key) if config.translate_url else None,
        admin_ids=config.admin_ids,
        person_lease=config.person_lease,
        reload=lambda: load_dialogue(config),
        watch=config.knowledge_dir if config.knowledge_watch else None,
    )


def assemble(*, dialogue: Dialogue, engine: Engine, setup: Setup, telegram: TelegramSettings) -> Assembled:
    """The Telegram application with its services on ``engine`` (migrated by the caller)."""
    from bot.core.conversation import Conversation
    from bot.core.handoff import Handoff
    from bot.storage.gaps import SqlGaps
    from bot.storage.stores import SqlStores
    from bot.storage.tickets import SqlTickets
    from bot.telegram.app import OutboxOptions, build_application
    from bot.telegram.outbox import OutboxSettings
    from bot.telegram.services import Services

    stores, tickets = SqlStores(engine), SqlTickets(engine)
    conversation = Conversation(dialogue, retention_days=setup.handoff.retention_days)
    handoff = None
    if setup.centres is not None:
        handoff = Handoff(conversation, setup.centres, tickets, setup.handoff, translation=setup.translator is not None)
    services = Services(
        conversation=conversation,
        profiles=stores,
        gate=stores,
        feedback=stores,
        admin_ids=setup.admin_ids,
        staff_chat_ids=setup.centres.staff_chat_ids if setup.centres else frozenset(),
        handoff=handoff,
        quarantine=stores,
        jobs=stores,
        vitals=tickets,
        instances=stores,
        gaps=SqlGaps(engine),
        person_lease=setup.person_lease,
        reload=setup.reload,
        watch=setup.watch,
    )
    if setup.clock is not None:
        services.clock = setup.clock
    outbox = OutboxOptions(
        store=tickets, settings=setup.outbox or OutboxSettings(), hooks=setup.hooks, translator=setup.translator
    )
    application = build_application(telegram, services, outbox)
    return Assembled(application=application, services=services, stores=stores, tickets=tickets)
