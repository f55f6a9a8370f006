"""What the review site's pages share: what a topic looks like in Telegram, the options, file names, badges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.core.coverage import Status
from bot.core.gaps import GapGroup
from bot.core.i18n import DEFAULT_LOCALES_DIR
from bot.core.model import Translation
from bot.site.html import e

STYLE = "style.css"
TOPICS = "topics"


@dataclass(frozen=True, slots=True)
class Shown:
    """One topic in one language as a person sees it: the Telegram HTML of each message, the buttons' labels, and
    the message the "More" button shows (None: nothing more)."""

    messages: tuple[str, ...]
    buttons: tuple[tuple[str, ...], ...]
    more: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Worklist:
    """The gaps worklist for the index page: the groups, or why there are none (``note``)."""

    groups: tuple[GapGroup, ...] = ()
    note: str | None = None
    days: float = 14.0  # how far back it looks


@dataclass(frozen=True, slots=True)
class Options:
    """``city``: the city the answers are shown for (None: a person who has not chosen one); ``edit_url``: where a
    file of the knowledge folder is edited on the web (the path is appended), e.g. a forge's edit page."""

    today: date = field(default_factory=date.today)
    city: str | None = None
    edit_url: str | None = None
    older_than_days: int = 180
    locales_dir: Path = DEFAULT_LOCALES_DIR


def topic_file(topic_id: str) -> str:
    """A topic's page, relative to the site's folder."""
    return f"{TOPICS}/{topic_id}.html"


def edit_path(topic_id: str, lang: str) -> str:
    """The file a reviewer of ``lang`` edits, relative to the project."""
    return f"knowledge/topics/{topic_id}/{lang}.yaml"


def badge(label: str) -> str:
    """A coloured status word: reviewed, draft, machine, outdated or missing."""
    return f'<span class="badge s-{e(label)}">{e(label)}</span>'


def file_link(options: Options, path: str) -> str:
    """A knowledge file's path, linked to its edit page when the site knows where that is."""
    if options.edit_url is None:
        return f"<code>{e(path)}</code>"
    return f'<a href="{e(options.edit_url + path)}"><code>{e(path)}</code></a>'


def state_word(status: Status, tr: Translation | None) -> str:
    """One word for a table cell or a language link: missing, outdated, or the translation's review status."""
    if tr is None or status in ("missing", "outdated"):
        return status
    return tr.status
