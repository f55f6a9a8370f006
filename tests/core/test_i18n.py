"""Interface catalogs: complete, not fuzzy, placeholders kept, template in step with the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import DEFAULT_LOCALES_DIR, catalog_path, translator
from tests.conftest import ROOT

LANGS = ["de", "ar", "fa", "uk", "ru", "tr", "ps", "ku", "ti", "so", "fr"]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]|/[a-z]+")


def _ids(path: Path, locale: str | None = None) -> set[str]:
    with path.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh, locale=locale) if m.id}


def test_template_matches_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "locales/babel.cfg", "-k", "N_",
         "--no-location", "-o", str(fresh), "bot"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    assert _ids(fresh) == _ids(DEFAULT_LOCALES_DIR / "messages.pot"), "run: make i18n-update"


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_complete_and_not_fuzzy(lang: str) -> None:
    path = catalog_path(lang)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    template = _ids(DEFAULT_LOCALES_DIR / "messages.pot")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ident = message.id if isinstance(message.id, str) else message.id[0]
        strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
        if message.fuzzy:
            problems.append(f"fuzzy: {ident!r}")
        if not all(strings):
            problems.append(f"missing: {ident!r}")
        for s in strings:
            if (
                s
                and sorted(_PLACEHOLDER.findall(s)) != sorted(set(_PLACEHOLDER.findall(ident)))
                and not (isinstance(message.id, tuple) and "%(num)d" in ident and "%(num)d" not in s)
            ):
                problems.append(f"placeholders differ: {ident!r} -> {s!r}")
    assert not template - _ids(path, lang), f"not in {path}: run make i18n-update"
    assert problems == []


def test_translator_uses_catalog_and_plural_forms() -> None:
    de = translator("de")
    assert de.gettext("Sorry, I do not have an answer to that.") != "Sorry, I do not have an answer to that."
    en = translator("en")
    assert en.ngettext("… and %(num)d more place.", "… and %(num)d more places.", 2) == "… and %(num)d more places."
    ar = translator("ar")
    forms = {ar.ngettext("… and %(num)d more place.", "… and %(num)d more places.", n) for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) >= 3  # Arabic distinguishes several plural forms
