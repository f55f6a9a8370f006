"""Text normalisation for matching, one rule set per script.

The result is only ever used for comparing text, never shown to anyone. Rules:

- Unicode NFKC (folds Arabic presentation forms and full-width letters), then casefold.
- Invisible marks removed: zero-width space/joiners (incl. Persian ZWNJ), bidi controls, BOM, Arabic letter mark.
- Digits of every script (Arabic-Indic, Persian, ...) become ASCII digits, so "١١٢" is "112".
- Latin: German spellings unified (ä/ae -> a, ö/oe -> o, ü/ue -> u, ß -> ss), other diacritics stripped
  (ç ş ğ ê î û é ...), Turkish dotless ı -> i.
- Arabic script: alef forms (أ إ آ ٱ) -> ا; alef maksura, Persian and Pashto yeh forms -> ي; Persian kaf/keheh and
  gaf-like kaf -> ك; Pashto ښ ږ ګ ټ ډ ړ ڼ -> ش ژ گ ت د ر ن (as typed on Persian keyboards); teh marbuta -> ه;
  hamza carriers ؤ -> و, ئ -> ي; tatweel and harakat removed; the article "ال" (and وال/بال/لل...) is split off
  long words.
- Cyrillic: ё -> е, й -> и, ї -> і, ґ -> г; apostrophes inside Ukrainian words removed.
- Ethiopic: syllables transliterated to Latin letters (archaic series ሠ ኀ ፀ and the carriers አ ዐ folded);
  Ethiopic punctuation separates words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_INVISIBLE = dict.fromkeys(
    (
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2060,
        0xFEFF,
        0x061C,
        0x00AD,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ),
    None,
)

_ARABIC_MAP = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ى": "ي",
    "ی": "ي",  # Persian yeh
    "ې": "ي",  # Pashto
    "ۍ": "ي",  # Pashto
    "ێ": "ي",  # Kurdish
    "ے": "ي",
    "ک": "ك",  # keheh (Persian kaf)
    "ڪ": "ك",
    "ة": "ه",
    "ۀ": "ه",
    "ہ": "ه",
    "ھ": "ه",
    # Pashto letters that Dari/Persian keyboards lack: people write the nearest Persian letter.
    "ښ": "ش",
    "ږ": "ژ",
    "ګ": "گ",
    "ټ": "ت",
    "ډ": "د",
    "ړ": "ر",
    "ڼ": "ن",
    "ؤ": "و",
    "ئ": "ي",
    "ـ": "",  # tatweel
}
# Harakat, Quranic marks, superscript alef.
_ARABIC_MARKS = {cp: None for cp in (*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE))}

_CYRILLIC_MAP = {"ё": "е", "й": "и", "ї": "і", "ґ": "г", "ʼ": "", "’": "", "'": ""}

_LATIN_SPECIAL = {"ß": "ss", "ı": "i", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th"}
_GERMAN_DIGRAPH = re.compile(r"(?<=[a-z])(ae|oe|ue)")

# Ethiopic syllables are transliterated to Latin letters for matching: a syllable is consonant row x vowel order,
# so one misspelt syllable becomes a one- or two-letter difference that typo tolerance can forgive. Archaic rows
# (ሠ ኀ ፀ) and the glottal/pharyngeal vowel carriers (አ ዐ) share one spelling, as writers mix them up.
_ETHIOPIC_ROWS = {
    0x1200: "h", 0x1208: "l", 0x1210: "hh", 0x1218: "m", 0x1220: "s", 0x1228: "r", 0x1230: "s", 0x1238: "sh",
    0x1240: "q", 0x1248: "qw", 0x1250: "qh", 0x1258: "qhw", 0x1260: "b", 0x1268: "v", 0x1270: "t", 0x1278: "c",
    0x1280: "h", 0x1288: "hw", 0x1290: "n", 0x1298: "ny", 0x12A0: "", 0x12A8: "k", 0x12B0: "kw", 0x12B8: "x",
    0x12C0: "xw", 0x12C8: "w", 0x12D0: "", 0x12D8: "z", 0x12E0: "zh", 0x12E8: "y", 0x12F0: "d", 0x12F8: "dd",
    0x1300: "j", 0x1308: "g", 0x1310: "gw", 0x1318: "ng", 0x1320: "tt", 0x1328: "cc", 0x1330: "pp", 0x1338: "ts",
    0x1340: "ts", 0x1348: "f", 0x1350: "p",
}  # fmt: skip
_ETHIOPIC_VOWELS = ("e", "u", "i", "a", "e", "", "o", "wa")
_ETHIOPIC_MAP = {
    chr(row + order): consonant + _ETHIOPIC_VOWELS[order]
    for row, consonant in _ETHIOPIC_ROWS.items()
    for order in range(8)
}

# French elision: "l'école", "m'ouvrir", "qu'il" are two words; other apostrophes are dropped inside the word
# ("don't" -> "dont", Ukrainian "м'ясо" -> "мясо", Somali "su'aal" -> "suaal").
_ELISION = re.compile(r"\b(l|d|j|m|t|s|n|c|qu|jusqu|lorsqu|puisqu)['’](?=\w)")
_ARTICLE = re.compile(r"^(?:وال|بال|كال|فال|لل|ال)(?=[\u0621-\u064a]{3,})")
# One-letter Arabic proclitics (and, with, for, so, like) glued to a word: "بسكين" = "ب" + "سكين".
_PROCLITIC = re.compile(r"^[وبلفك](?=[\u0621-\u06d3]{3,}$)")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

_TABLE = str.maketrans(
    {
        **_INVISIBLE,
        **{k: v for k, v in _ARABIC_MAP.items()},
        **_ARABIC_MARKS,
        **{k: v for k, v in _CYRILLIC_MAP.items()},
        **_ETHIOPIC_MAP,
        "፡": " ",
        "።": " ",
        "፣": " ",
        "፤": " ",
        "፧": " ",
        "،": " ",
        "؛": " ",
        "؟": " ",
    }
)


def _fold_latin(text: str) -> str:
    """Strip Latin diacritics, keeping every other script untouched."""
    out = []
    for ch in text:
        if ch in _LATIN_SPECIAL:
            out.append(_LATIN_SPECIAL[ch])
        elif "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":
            base = unicodedata.normalize("NFD", ch)
            out.append("".join(c for c in base if not unicodedata.combining(c)))
        elif unicodedata.combining(ch) and out and out[-1].isascii():
            continue  # combining mark on a Latin letter
        else:
            out.append(ch)
    return "".join(out)


def _digits(text: str) -> str:
    if text.isascii():
        return text
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)


def _prepare(text: str) -> str:
    """Script-independent folding: NFKC, case, invisible marks, letter variants, digits."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if "'" in text or "’" in text:
        text = _ELISION.sub(r"\1 ", text)
    return _digits(text.translate(_TABLE))


@lru_cache(maxsize=131072)
def _fold_word(text: str) -> str:
    """Latin folding: umlauts and their digraph spellings, other diacritics (words repeat: memoised)."""
    text = text.replace("ä", "a").replace("ö", "o").replace("ü", "u")
    text = _fold_latin(text)
    return _GERMAN_DIGRAPH.sub(lambda m: m.group(1)[0], text)


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Return ``text`` folded for matching (never for display)."""
    return " ".join(_fold_word(_prepare(text)).split())


@lru_cache(maxsize=65536)
def _token_tuple(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in _TOKEN.findall(_prepare(text)):
        folded = _fold_word(word)
        # In words of up to three letters the diacritics carry the meaning: Turkish "iş" (work) is not "is".
        chosen = word if len(folded) <= 3 else folded
        out.append(_ARTICLE.sub("", chosen))
    return tuple(out)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of ``text`` (short words keep their diacritics; Arabic article split off)."""
    return list(_token_tuple(text))


def proclitic_stem(token: str) -> str | None:
    """``token`` without a glued one-letter Arabic proclitic, or None when it has none."""
    stem = _PROCLITIC.sub("", token)
    return stem if stem != token else None


def script_of(text: str) -> str:
    """The dominant script of ``text``: latin, arabic, cyrillic, ethiopic or other."""
    counts = {"latin": 0, "arabic": 0, "cyrillic": 0, "ethiopic": 0}
    for ch in text:
        cp = ord(ch)
        if (ch.isascii() and ch.isalpha()) or 0x00C0 <= cp <= 0x024F:
            counts["latin"] += 1
        elif 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFEFF:
            counts["arabic"] += 1
        elif 0x0400 <= cp <= 0x04FF:
            counts["cyrillic"] += 1
        elif 0x1200 <= cp <= 0x139F:
            counts["ethiopic"] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "other"


def clear_caches() -> None:
    """Forget memoised results (benchmarks measure cold calls)."""
    normalize.cache_clear()
    _token_tuple.cache_clear()
    _fold_word.cache_clear()
