"""Configuration: the only module that reads the environment.

Public names (a contract for deployments): ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE_URL``, ``DATABASE_URL``,
``KNOWLEDGE_DIR``, ``LOTSE_ADMIN_IDS``, ``LOTSE_WEBHOOK_URL``, ``LOTSE_WEBHOOK_LISTEN``, ``LOTSE_WEBHOOK_PORT``,
``LOTSE_WEBHOOK_SECRET``, ``LOTSE_CENTRES``, ``LOTSE_REOPEN_HOURS``, ``LOTSE_RETENTION_DAYS``, ``LOTSE_TRANSLATE_URL``,
``LOTSE_TRANSLATE_KEY``, ``LOTSE_CACHE_DIR``, ``LOTSE_EMBEDDINGS``, ``LOTSE_GROUP_RATE``, ``LOTSE_OUTBOX_LEASE`` and
``LOTSE_PERSON_LEASE`` (tests only), ``LOTSE_HTTP_PORT`` and ``LOTSE_HTTP_LISTEN`` (health and metrics),
``LOTSE_LOG_FORMAT`` (json or text) and ``LOTSE_LOG_LEVEL``, and the webhook secrets
named in the centres file; a file ``.env`` beside the project is read too (the environment
wins); matching thresholds may be overridden with ``LOTSE_MATCH_<FIELD>`` (e.g. ``LOTSE_MATCH_ANSWER_CONFIDENCE=0.6``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from dotenv import dotenv_values

from bot.core.i18n import DEFAULT_LOCALES_DIR
from bot.core.match_model import MatchSettings, settings_from_mapping

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_KNOWLEDGE_DIR = PROJECT_DIR / "knowledge"
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_DIR / 'lotse.db'}"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
_MATCH_PREFIX = "LOTSE_MATCH_"
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")
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
    api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    centres_path: Path | None = None
    reopen_hours: float = 24.0
    retention_days: int = 90
    translate_url: str | None = None
    translate_key: str | None = None
    group_rate: tuple[int, float] = (20, 60.0)
    outbox_lease: float = 30.0
    person_lease: float = 30.0  # seconds an instance holds a person's turn at most (a crashed one's runs out)
    cache_dir: Path | None = None  # where the trained matcher is kept between starts (None: train at every start)
    embeddings: str | None = None  # the optional semantic layer, "<backend>:<model or path>"
    http_listen: str = "0.0.0.0"
    http_port: int = 8080  # /healthz and /metrics; 0 turns the endpoint off
    knowledge_watch: bool = True  # a changed knowledge file is read, checked and swapped in without a restart
    log_format: str = "json"  # one JSON object a line; "text" for people at a terminal
    log_level: str = "info"
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def secret(self, name: str) -> str:
        """The value of the environment variable ``name`` (a centre's webhook secret), or a ConfigError."""
        value = (self.secrets.get(name) or "").strip()
        if len(value) < 16:
            raise ConfigError(f"{name}: set this environment variable to the webhook secret (at least 16 characters)")
        return value

    @property
    def api_file_url(self) -> str:
        """Where files are downloaded from (the Bot API server's ``/file/bot`` path)."""
        return self.api_base_url.removesuffix("/bot") + "/file/bot"

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
    if env is None:
        dotenv = {k: v for k, v in dotenv_values(PROJECT_DIR / ".env").items() if v is not None}
        env = {**dotenv, **os.environ}
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
    base = (env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base):
        raise ConfigError(f"TELEGRAM_API_BASE_URL must start with http:// or https:// (got {base!r})")
    if not base.endswith("/bot"):
        base += "/bot"
    admins: set[int] = set()
    for part in (env.get("LOTSE_ADMIN_IDS") or "").split(","):
        if part.strip():
            if not part.strip().lstrip("-").isdecimal():
                raise ConfigError(f"LOTSE_ADMIN_IDS: {part.strip()!r} is not a Telegram user id (a number)")
            admins.add(int(part))
    port_text = env.get("LOTSE_WEBHOOK_PORT") or "8443"
    if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"LOTSE_WEBHOOK_PORT: {port_text!r} is not a port number")
    http_text = (env.get("LOTSE_HTTP_PORT") or "8080").strip()
    if not http_text.isdecimal() or not 0 <= int(http_text) < 65536:
        raise ConfigError(f"LOTSE_HTTP_PORT: {http_text!r} is not a port number (0 turns /healthz and /metrics off)")
    log_format = (env.get("LOTSE_LOG_FORMAT") or "json").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOTSE_LOG_FORMAT: {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    log_level = (env.get("LOTSE_LOG_LEVEL") or "info").strip().lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOTSE_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    webhook_url = (env.get("LOTSE_WEBHOOK_URL") or "").strip() or None
    if webhook_url is not None and not webhook_url.startswith("https://"):
        raise ConfigError("LOTSE_WEBHOOK_URL must be an https:// address that Telegram can reach")
    secret = (env.get("LOTSE_WEBHOOK_SECRET") or "").strip() or None
    if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
        raise ConfigError("LOTSE_WEBHOOK_SECRET may contain only A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
    reopen = _number(env, "LOTSE_REOPEN_HOURS", "24", "a number of hours (0 turns reopening off)")
    retention = _number(env, "LOTSE_RETENTION_DAYS", "90", "a whole number of days, at least 1")
    if retention < 1 or retention != int(retention):
        raise ConfigError("LOTSE_RETENTION_DAYS: a whole number of days, at least 1")
    translate_url = (env.get("LOTSE_TRANSLATE_URL") or "").strip() or None
    if translate_url is not None and not re.match(r"^https?://\S+$", translate_url):
        raise ConfigError("LOTSE_TRANSLATE_URL must be the http(s) address of a LibreTranslate /translate endpoint")
    rate = (env.get("LOTSE_GROUP_RATE") or "20/60").strip()
    found = re.fullmatch(r"(\d+)/(\d+(?:\.\d+)?)", rate)
    if not found or int(found.group(1)) < 1 or float(found.group(2)) <= 0:
        raise ConfigError("LOTSE_GROUP_RATE: messages/seconds, e.g. 20/60 (Telegram's limit; change it only in tests)")
    lease = _number(env, "LOTSE_OUTBOX_LEASE", "30", "a number of seconds")
    person_lease = _number(env, "LOTSE_PERSON_LEASE", "30", "a number of seconds")
    cache_text = (env.get("LOTSE_CACHE_DIR") or "").strip()
    if cache_text.lower() == "off":
        cache_dir = None
    elif cache_text:
        cache_dir = Path(cache_text)
    else:
        xdg = (env.get("XDG_CACHE_HOME") or "").strip()
        cache_dir = (Path(xdg) if xdg else Path.home() / ".cache") / "lotse"
    embeddings = (env.get("LOTSE_EMBEDDINGS") or "").strip() or None
    if embeddings is not None and ":" not in embeddings:
        raise ConfigError("LOTSE_EMBEDDINGS: <backend>:<model or path>, e.g. vectors:/models/cc.multi.vec")
    return Config(
        http_listen=(env.get("LOTSE_HTTP_LISTEN") or "0.0.0.0").strip(),
        http_port=int(http_text),
        knowledge_watch=_switch(env, "LOTSE_KNOWLEDGE_WATCH", True),
        log_format=log_format,
        log_level=log_level,
        cache_dir=cache_dir,
        embeddings=embeddings,
        outbox_lease=max(lease, 1.0),
        person_lease=max(person_lease, 1.0),
        reopen_hours=reopen,
        retention_days=int(retention),
        translate_url=translate_url,
        translate_key=(env.get("LOTSE_TRANSLATE_KEY") or "").strip() or None,
        group_rate=(int(found.group(1)), float(found.group(2))),
        secrets=dict(env),
        knowledge_dir=knowledge_dir,
        locales_dir=DEFAULT_LOCALES_DIR,
        match=match,
        telegram_token=token,
        api_base_url=base,
        database_url=(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL).strip(),
        admin_ids=frozenset(admins),
        webhook_url=webhook_url,
        webhook_listen=(env.get("LOTSE_WEBHOOK_LISTEN") or "0.0.0.0").strip(),
        webhook_port=int(port_text),
        webhook_secret=secret,
        centres_path=Path(env["LOTSE_CENTRES"]) if env.get("LOTSE_CENTRES") else None,
    )


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """on/off (also 1/0, true/false, yes/no); unset: ``default``."""
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("1", "on", "true", "yes"):
        return True
    if text in ("0", "off", "false", "no"):
        return False
    raise ConfigError(f"{name}: {text!r} is neither on nor off")


def _number(env: Mapping[str, str], name: str, default: str, what: str) -> float:
    text = (env.get(name) or default).strip()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not {what}") from None
    if value < 0:
        raise ConfigError(f"{name}: {text!r} is not {what}")
    return value
