"""Interface translations: Babel catalogs in ``locales/<lang>/LC_MESSAGES/messages.po``.

A ``messages.mo`` beside the ``.po`` (``pybabel compile``, as the container build does) is used when it is not older
than its ``.po``; otherwise the catalog is compiled in memory when first used (Babel's own ``write_mo``), so a
running Lotse never serves a stale ``.mo`` file. Fuzzy entries are not used. A language without a catalog falls
back to the source strings (English).
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "messages"
DEFAULT_LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"


class Translator(Protocol):
    """What core needs from a translation catalog."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def catalog_path(lang: str, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Path:
    return locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=64)
def translator(lang: str, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Translator:
    """The compiled catalog for ``lang`` (English source strings when there is none)."""
    path = catalog_path(lang, locales_dir)
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    compiled = path.with_suffix(".mo")
    if compiled.is_file() and compiled.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        with compiled.open("rb") as fh:
            return Translations(fp=fh, domain=DOMAIN)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name
    """Mark a string for extraction without translating it here."""
    return message
