"""How one message word meets one concept word: exact, stem, listed ending, ``stem*`` prefix, or one typo.

Snowball stemmers (the ``snowballstemmer`` package) join inflected forms for the languages they cover; the others
list their inflection ``endings`` in ``emergency/<lang>.yaml``. Text is normalised first
(:mod:`bot.core.normalize`), and both sides are stemmed from the normalised form, so they stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from bot.core.normalize import script_of, tokens

# Lotse language -> Snowball algorithm.
STEMMED: dict[str, str] = {
    "ar": "arabic",
    "de": "german",
    "en": "english",
    "fa": "persian",
    "fr": "french",
    "ru": "russian",
    "tr": "turkish",
}
# Which stemmers a message word of a script may need (a Latin word may be German, English, French or Turkish).
_BY_SCRIPT: dict[str, tuple[str, ...]] = {
    "latin": ("de", "en", "fr", "tr"),
    "cyrillic": ("ru",),
    "arabic": ("ar", "fa"),
}
MIN_STEM = 3
MIN_PREFIX = 3
TYPO_MIN_LENGTH = 6


@dataclass(frozen=True, slots=True)
class Word:
    """One normalised word of a concept entry; ``prefix`` for a ``stem*`` entry."""

    form: str
    prefix: bool
    lang: str


def entry_words(entry: str, lang: str) -> tuple[Word, ...]:
    """The words of one concept entry ("mein mann", "bewusstlos*"), normalised."""
    words: list[Word] = []
    for raw in entry.split():
        prefix = raw.endswith("*")
        parts = tokens(raw.rstrip("*"))
        for index, part in enumerate(parts):
            words.append(Word(part, prefix and index == len(parts) - 1, lang))
    return tuple(words)


@lru_cache(maxsize=16)
def _stemmer(lang: str) -> snowballstemmer.Stemmer | None:
    algorithm = STEMMED.get(lang)
    return snowballstemmer.stemmer(algorithm) if algorithm else None


@lru_cache(maxsize=65536)
def stem(word: str, lang: str) -> str | None:
    """The Snowball stem of a normalised word in ``lang``, or None when the language has no stemmer."""
    stemmer = _stemmer(lang)
    if stemmer is None:
        return None
    found: str = stemmer.stemWord(word)
    return found if len(found) >= MIN_STEM else None


@lru_cache(maxsize=65536)
def message_stems(word: str) -> tuple[tuple[str, str], ...]:
    """(language, stem) for every stemmer that a message word of its script may need."""
    out: list[tuple[str, str]] = []
    for lang in _BY_SCRIPT.get(script_of(word), ()):
        found = stem(word, lang)
        if found is not None:
            out.append((lang, found))
    return tuple(out)


def deletes(word: str) -> set[str]:
    """``word`` with one letter removed, every way (the symmetric-delete typo index)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
