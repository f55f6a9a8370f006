"""Loading and checking ``emergency.yaml`` and ``emergency/<lang>.yaml``: every problem with ``file:line``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from types import MappingProxyType

from bot.core.checking import Problem, Reporter, load_validated
from bot.core.emergency.words import (
    DICTIONARY_LANGUAGES,
    TYPO_MIN_LENGTH,
    entry_words,
    transliterated,
    typo_min_length,
)
from bot.core.model import EMERGENCY_LINES, Emergency, EmergencyWords
from bot.core.normalize import normalize, tokens
from bot.core.yamlsafe import LDict, LList

SITUATIONS_FILE = "emergency.yaml"
WORDS_DIR = "emergency"
PHONE_LINES = {"poison-centre", "women-helpline", "crisis-line"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DIGITS = re.compile(r"\d[\d /-]*\d")
_ALLOWED_NUMBERS = {"112", "110"}

# Is ``word`` an everyday word of language ``lang``? (A dictionary, for the collision warnings of the full check.)
KnownWord = Callable[[str, str], bool]


def check_emergency(root: Path, codes: set[str], rep: Reporter) -> Emergency | None:
    """The emergency situations with their words, or None when the files are missing or have errors."""
    path = root / SITUATIONS_FILE
    if not path.is_file():
        return None  # optional: the trigger phrases of topics/emergency.yaml still work
    before = len([p for p in rep.problems if p.severity == "error"])
    loaded = load_validated(Emergency, path, rep)
    if loaded is None:
        return None
    raw, base = loaded
    _check_situations(path, raw, base, rep)
    words: dict[str, EmergencyWords] = {}
    folder = root / WORDS_DIR
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        rep.add(folder, 1, "no emergency words: the folder emergency/ has no <lang>.yaml", "add emergency/en.yaml")
    for file in files:
        found = _check_words(file, base, codes, rep)
        if found is not None:
            words[found.lang] = found
    for code in sorted(codes - {file.stem for file in files}) if files else ():
        rep.add(folder / f"{code}.yaml", 1, f"{code}: no emergency words in this language; an emergency written in "
                "it is recognised only by words of other languages", "copy emergency/en.yaml to this file and "
                "translate the words (status: machine until a native speaker checks them)", "warning")  # fmt: skip
    errors = len([p for p in rep.problems if p.severity == "error"])
    if errors > before:
        return None
    return base.model_copy(update={"words": MappingProxyType(words)})


def _check_situations(path: Path, raw: LDict, emergency: Emergency, rep: Reporter) -> None:
    situations = raw.get("situations")
    for name, situation in emergency.situations.items():
        line = situations.line_of(name) if isinstance(situations, LDict) else 1
        for combo in situation.when:
            for concept in combo:
                if concept not in emergency.concepts:
                    rep.add(path, line, f"situation '{name}': unknown concept '{concept}'", "add it under 'concepts'")
        for concept in situation.calmed_by:
            if concept not in emergency.concepts:
                rep.add(path, line, f"situation '{name}': unknown concept '{concept}'", "add it under 'concepts'")
        for call in situation.call:
            if call in PHONE_LINES and call not in emergency.services:
                rep.add(path, line, f"situation '{name}': '{call}' has no entry under 'services'", "add its number")
        if not situation.dispatcher.startswith("Ich brauche"):
            rep.add(
                path,
                line,
                f"situation '{name}': the dispatcher sentence should start with 'Ich brauche'",
                "say first what is needed: 'Ich brauche einen Krankenwagen.', 'Ich brauche die Polizei.'",
                "warning",
            )


def _check_words(path: Path, emergency: Emergency, codes: set[str], rep: Reporter) -> EmergencyWords | None:
    loaded = load_validated(EmergencyWords, path, rep)
    if loaded is None:
        return None
    raw, words = loaded
    if words.lang != path.stem:
        rep.add(path, raw.line_of("lang"), f"lang '{words.lang}' differs from the file name", f"write {path.stem}")
    if words.lang not in codes:
        rep.add(path, raw.line_of("lang"), f"'{words.lang}' is not in languages.yaml", "add the language first")
    concepts = raw.get("concepts")
    for concept, entries in words.concepts.items():
        line = concepts.line_of(concept) if isinstance(concepts, LDict) else 1
        if concept not in emergency.concepts:
            rep.add(path, line, f"unknown concept '{concept}'", "use a concept of emergency.yaml (check the spelling)")
            continue
        items = concepts.get(concept) if isinstance(concepts, LDict) else None
        for index, entry in enumerate(entries):
            at = items.line_of(index) if isinstance(items, LList) else line
            _check_entry(path, at, words.lang, entry, rep)
    for concept in emergency.concepts:
        if concept not in words.concepts:
            rep.add(path, 1, f"{words.lang}: no words for concept '{concept}'", "add them under 'concepts'", "warning")
    _check_lines(path, raw, words, rep)
    if words.status != "reviewed":
        rep.add(
            path,
            raw.line_of("status"),
            f"{words.lang}: emergency words are {words.status}-drafted, not yet reviewed by a native speaker",
            "a native speaker checks them and sets status: reviewed, reviewed_by and checked",
            "warning",
        )
    return words


def _check_entry(path: Path, line: int, lang: str, entry: str, rep: Reporter) -> None:
    parsed = entry_words(entry, lang)
    if not parsed:
        rep.add(path, line, f"entry {entry!r} has no word", "remove it")
        return
    for word in parsed:
        if word.prefix and len(word.form) < 3:
            rep.add(path, line, f"prefix '{word.form}*' is too short", "write at least 3 letters before the *")
    if "*" in entry.replace("* ", " ").rstrip("*"):
        rep.add(path, line, f"entry {entry!r}: '*' only at the end of a word", "write stem* (e.g. bewusstlos*)")


def _check_lines(path: Path, raw: LDict, words: EmergencyWords, rep: Reporter) -> None:
    lines = raw.get("lines")
    for key, text in words.lines.items():
        line = lines.line_of(key) if isinstance(lines, LDict) else 1
        if key not in EMERGENCY_LINES:
            rep.add(path, line, f"unknown line '{key}'", f"use one of: {', '.join(EMERGENCY_LINES)}")
            continue
        holes = set(_PLACEHOLDER.findall(text))
        if key in PHONE_LINES and holes != {"phone"}:
            rep.add(path, line, f"line '{key}' must contain {{phone}}", "the number is filled in from emergency.yaml")
        elif key not in PHONE_LINES and holes:
            rep.add(path, line, f"line '{key}': unknown placeholder {{{', '.join(sorted(holes))}}}", "remove it")
        for number in _DIGITS.findall(text):
            if number.replace(" ", "") not in _ALLOWED_NUMBERS:
                rep.add(
                    path,
                    line,
                    f"line '{key}': number '{number}' is not from a cited source",
                    "write numbers in emergency.yaml under 'services' (with their source) and use {phone}",
                )
    for key in EMERGENCY_LINES:
        if key not in words.lines:
            rep.add(path, 1, f"{words.lang}: line '{key}' is missing", "English is shown instead", "warning")


def collisions(emergency: Emergency, known: KnownWord, languages: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(lang, concept, concept word, everyday word) where an everyday word is one letter from a concept word.

    Such a word would be read as a typo of the concept word ("cooking" of "choking") unless it is listed under
    ``common`` in ``emergency/<lang>.yaml``.
    """
    found: list[tuple[str, str, str, str]] = []
    wanted = set(languages)
    for lang, words in emergency.words.items():
        if lang not in wanted:
            continue
        listed = {form for common in words.common for form in (w.form for w in entry_words(common, lang))}
        concept_forms = {
            w.form for entries in words.concepts.values() for entry in entries for w in entry_words(entry, lang)
        }
        # Letters as normalised text has them (umlauts and diacritics folded), so that an edit is a real difference.
        alphabet = sorted({ch for form in concept_forms if len(form) > 3 for ch in form if ch.isalpha()})
        seen: set[str] = set()  # a word that stands in several entries is looked at once
        shortest = typo_min_length(lang)
        for concept, entries in words.concepts.items():
            for entry in entries:
                for word in entry_words(entry, lang):
                    if word.prefix or len(word.form) < shortest or transliterated(word) or word.form in seen:
                        continue
                    seen.add(word.form)
                    for near in sorted(_one_edit(word.form, alphabet) - listed - concept_forms):
                        folded = tokens(near)
                        if folded == [word.form] or (len(folded) == 1 and folded[0] in listed):
                            continue  # the same word, or a listed one, once normalised ("barbecue", "drogue")
                        if known(near, lang):
                            found.append((lang, concept, word.form, near))
    return found


def _one_edit(word: str, alphabet: list[str]) -> set[str]:
    """Every word one letter away that keeps the first letter (the detector forgives no other typo)."""
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet if c != b[0]}
    out |= {a + c + b for a, b in splits for c in alphabet}
    out.discard(word)
    return {w for w in out if len(w) >= TYPO_MIN_LENGTH}


def collision_problems(root: Path, emergency: Emergency, known: KnownWord) -> list[Problem]:
    """Warnings (``file:line``) for concept words one letter away from an everyday word of their language."""
    rep = Reporter(root)
    for lang, concept, word, near in collisions(emergency, known, DICTIONARY_LANGUAGES):
        path = root / WORDS_DIR / f"{lang}.yaml"
        rep.add(
            path,
            _line_of(path, word),
            f"{lang}: concept word '{word}' ({concept}) is one letter from the everyday word '{near}'",
            f"add '{near}' to 'common' so it is never read as a typo of '{word}'",
            "warning",
        )
    return rep.problems


def _line_of(path: Path, word: str) -> int:
    try:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.startswith("common:") and word in normalize(text):
                return number
    except OSError:
        pass
    return 1


def write_common(root: Path, emergency: Emergency, known: KnownWord) -> dict[str, int]:
    """Add every everyday word one letter from a concept word to ``common`` of its language file.

    Returns how many words each language file gained. Only the ``common:`` line of a file is rewritten.
    """
    found: dict[str, set[str]] = {}
    for lang, _concept, _word, near in collisions(emergency, known, DICTIONARY_LANGUAGES):
        found.setdefault(lang, set()).add(near)
    added: dict[str, int] = {}
    for lang, words in sorted(found.items()):
        path = root / WORDS_DIR / f"{lang}.yaml"
        current = list(emergency.words[lang].common)
        new = current + sorted(words - {w.form for c in current for w in entry_words(c, lang)})
        if len(new) == len(current):
            continue
        line = "common: [" + ", ".join(json.dumps(word, ensure_ascii=False) for word in new) + "]"
        lines = path.read_text(encoding="utf-8").split("\n")
        at = next((i for i, text in enumerate(lines) if text.startswith("common:")), None)
        if at is None:
            at = next(i for i, text in enumerate(lines) if text.startswith("concepts:"))
            lines.insert(at, line)
        else:
            end = at + 1
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1  # a list written over several lines
            lines[at:end] = [line]
        path.write_text("\n".join(lines), encoding="utf-8")
        added[lang] = len(new) - len(current)
    return added
