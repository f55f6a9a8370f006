"""Configuration: the only module that reads the environment.

Public names (a contract for deployments): ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE_URL``, ``DATABASE_URL``,
``KNOWLEDGE_DIR``, ``LOTSE_ADMIN_IDS``; matching thresholds may be overridden with ``LOTSE_MATCH_<FIELD>``
(e.g. ``LOTSE_MATCH_ANSWER_SCORE=2.8``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from bot.core.i18n import DEFAULT_LOCALES_DIR
from bot.core.matcher import MatchSettings, settings_from_mapping

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_KNOWLEDGE_DIR = PROJECT_DIR / "knowledge"
_MATCH_PREFIX = "LOTSE_MATCH_"
_TOKEN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,64}$")

NO_TOKEN_HELP = """\
Lotse needs a Telegram bot token to talk to people in Telegram, and none is set (TELEGRAM_BOT_TOKEN).

How to get one (2 minutes):
  1. In Telegram, open a chat with @BotFather and send /newbot.
  2. Choose a name ("Lotse Düsseldorf") and a user name ending in "bot".
  3. BotFather answers with a token like 123456789:AA...; keep it secret.
  4. Run:  TELEGRAM_BOT_TOKEN='<your token>' make run

Without a token you can try Lotse right now in the terminal:
  make chat          (or: .venv/bin/python -m bot chat --lang de --city duesseldorf)
"""


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything Lotse reads from its environment."""

    knowledge_dir: Path
    locales_dir: Path
    match: MatchSettings
    telegram_token: str | None = None

    def require_token(self) -> str:
        """The bot token, or a :class:`ConfigError` that explains how to get one."""
        if self.telegram_token is None:
            raise ConfigError(NO_TOKEN_HELP)
        if not _TOKEN.match(self.telegram_token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is malformed: a token looks like 123456789:AAE... (digits, a colon, 35 letters);"
                " copy it again from @BotFather"
            )
        return self.telegram_token


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    knowledge_dir = Path(env.get("KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)
    names = {f.name for f in fields(MatchSettings)}
    overrides: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith(_MATCH_PREFIX):
            name = key.removeprefix(_MATCH_PREFIX).lower()
            if name not in names:
                raise ConfigError(f"{key}: unknown matching setting; known: {', '.join(sorted(names))}")
            overrides[name] = value
    try:
        match = settings_from_mapping(overrides)
    except ValueError as exc:
        raise ConfigError(f"LOTSE_MATCH_*: not a number ({exc})") from exc
    token = (env.get("TELEGRAM_BOT_TOKEN") or "").strip() or None
    return Config(knowledge_dir=knowledge_dir, locales_dir=DEFAULT_LOCALES_DIR, match=match, telegram_token=token)
