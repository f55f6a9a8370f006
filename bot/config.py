"""Configuration: the only module that reads the environment.

Public names (a contract for deployments): ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE_URL``, ``DATABASE_URL``,
``KNOWLEDGE_DIR``, ``LOTSE_ADMIN_IDS``; matching thresholds may be overridden with ``LOTSE_MATCH_<FIELD>``
(e.g. ``LOTSE_MATCH_ANSWER_SCORE=2.8``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from bot.core.i18n import DEFAULT_LOCALES_DIR
from bot.core.matcher import MatchSettings, settings_from_mapping

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_KNOWLEDGE_DIR = PROJECT_DIR / "knowledge"
_MATCH_PREFIX = "LOTSE_MATCH_"


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything Lotse reads from its environment."""

    knowledge_dir: Path
    locales_dir: Path
    match: MatchSettings


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
    return Config(knowledge_dir=knowledge_dir, locales_dir=DEFAULT_LOCALES_DIR, match=match)
