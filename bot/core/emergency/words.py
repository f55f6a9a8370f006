"""How one message word meets one concept word: exact, stem, listed ending, ``stem*`` prefix, or one typo.

Snowball stemmers (the ``snowballstemmer`` package) join inflected forms for the languages they cover; the others
list their inflection ``endings`` in ``emergency/<lang>.yaml``. Text is normalised first
(:mod:`bot.core.normalize`), and both sides are stemmed from the normalised form, so they stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from bot.core.normalize import tokens

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
# Languages whose everyday words the knowledge check can look up (simplemma's word lists), so that their collisions
# are listed under `common`; words of the other languages are forgiven a typo only when they are longer.
DICTIONARY_LANGUAGES = ("de", "en", "fr", "ru", "uk", "tr", "fa")
TYPO_MIN_LENGTH_UNCHECKED = 8


def typo_min_length(lang: str) -> int:
    """How long a concept word of ``lang`` must be to be found with one typo."""
    return TYPO_MIN_LENGTH if lang in DICTIONARY_LANGUAGES else TYPO_MIN_LENGTH_UNCHECKED


@dataclass(frozen=True, slots=True)
class Word:
    """One normalised word of a concept entry; ``prefix`` for a ``stem*`` entry."""

    form: str
    prefix: bool
    lang: str


@lru_cache(maxsize=131072)
def entry_words(entry: str, lang: str) -> tuple[Word, ...]:
    """The words of one concept entry ("mein mann", "bewusstlos*"), normalised."""
    if "*" not in entry:
        return tuple(Word(part, False, lang) for part in tokens(entry))
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
    for lang in _BY_SCRIPT.get(first_script(word), ()):
        found = stem(word, lang)
        if found is not None:
            out.append((lang, found))
    return tuple(out)


# Languages not written in Latin letters: their Latin spellings (Arabizi, Finglish, "dopomozhit") are already
# spelling variants, one letter from many other words, so they get no typo tolerance of their own.
_NATIVE_SCRIPT = {"ar": "arabic", "fa": "arabic", "ps": "arabic", "uk": "cyrillic", "ru": "cyrillic"}


def transliterated(word: Word) -> bool:
    native = _NATIVE_SCRIPT.get(word.lang)
    return native is not None and first_script(word.form) != native


def first_script(word: str) -> str:
    """The script of a normalised word, read from its first letter (words do not mix scripts)."""
    ch = word[:1]
    if ch.isascii() or "\u00c0" <= ch <= "\u024f":
        return "latin"
    if "\u0400" <= ch <= "\u04ff":
        return "cyrillic"
    if "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f":
        return "arabic"
    return "other"


def deletes(word: str) -> set[str]:
    """``word`` with one letter removed, every way (the symmetric-delete typo index)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def clear_caches() -> None:
    """Forget memoised stems (benchmarks measure cold calls)."""
    stem.cache_clear()
    message_stems.cache_clear()
