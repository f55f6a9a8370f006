"""Loading and validating the knowledge directory.

Every problem is collected (never only the first) as a :class:`Problem` with ``file:line``, a message and a
one-line hint. Errors make the knowledge unusable; warnings (outdated or unreviewed translations, thin
examples) are reported but do not fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from bot.core.checking import Problem, Reporter, line_of_text, load_mapping, load_validated, validate
from bot.core.districts import (
    MUNICIPALITIES_FILE,
    check_centres,
    check_levels,
    check_municipalities,
    contacts_around,
)
from bot.core.emergency.check import check_emergency
from bot.core.model import City, Intent, Knowledge, Language
from bot.core.render import MORE_MARK, ONLY, SHORT_LIMIT
from bot.core.topics import EMERGENCY_TOPIC, check_review, load_topics, topic_path
from bot.core.yamlsafe import LDict, LList

__all__ = ["EMERGENCY_TOPIC", "CheckResult", "KnowledgeError", "check_knowledge", "load_knowledge"]


class KnowledgeError(Exception):
    """Raised when the knowledge base has errors and cannot be used."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in the knowledge base; first: {errors[0].format()}")


@dataclass(slots=True)
class CheckResult:
    """Outcome of :func:`check_knowledge`: the knowledge (None on errors) and all problems."""

    knowledge: Knowledge | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _yaml_files(folder: Path, rep: Reporter) -> list[Path]:
    if not folder.is_dir():
        rep.add(folder, 1, f"folder '{folder.name}/' is missing", "create it (see knowledge/README.md)")
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".yml":
            rep.add(path, 1, "wrong file ending '.yml'", "rename the file to end in '.yaml'")
        elif path.suffix == ".yaml":
            files.append(path)
    return files


def check_knowledge(root: Path) -> CheckResult:
    """Load and validate the knowledge directory; report every problem."""
    rep = Reporter(root)
    if not root.is_dir():
        rep.add(root, 1, "knowledge folder not found", "pass the folder that holds languages.yaml")
        return CheckResult(None, rep.problems)
    languages = _check_languages(root / "languages.yaml", rep)
    codes = set(languages)
    topics = load_topics(root, languages, rep)
    handoff = _check_intent(root / "handoff.yaml", codes, rep, required=True)
    offtopic = _check_intent(root / "offtopic.yaml", codes, rep, required=False)
    uncovered = _check_intent(root / "uncovered.yaml", codes, rep, required=False)
    cities = _check_cities(root / "cities", codes, rep)
    check_levels(root / "cities", cities, rep)
    check_centres(root / "cities", cities, rep)
    municipalities = check_municipalities(root / MUNICIPALITIES_FILE, cities, codes, rep)
    emergency = check_emergency(root, codes, rep)
    errors = any(p.severity == "error" for p in rep.problems)
    if errors or handoff is None:
        return CheckResult(None, rep.problems)
    knowledge = Knowledge(
        languages=MappingProxyType(dict(languages)),
        topics=MappingProxyType(topics),
        cities=MappingProxyType(cities),
        municipalities=MappingProxyType(municipalities),
        handoff=handoff,
        offtopic=offtopic,
        uncovered=uncovered,
        emergency=emergency,
    )
    _check_city_contacts(root / "cities", knowledge, rep)
    _check_short_answers(root, knowledge, rep)
    return CheckResult(knowledge, rep.problems)


def _check_short_answers(root: Path, knowledge: Knowledge, rep: Reporter) -> None:
    """A warning where the short answer a volunteer marked (the text before a line "---") is over the limit."""
    for topic in knowledge.topics.values():
        for lang, tr in topic.translations.items():
            parts = MORE_MARK.split(tr.answer.strip(), maxsplit=1)
            short = re.sub(r"\{[^{}]*\}", "", parts[0]).strip()
            if len(parts) > 1 and len(short) > SHORT_LIMIT:
                path = topic_path(root, topic.id, lang)
                rep.add(path, line_of_text(path, "answer:"), f"{topic.id} ({lang}): the short answer before '---' "
                        f"is {len(short)} characters", f"keep it under {SHORT_LIMIT}: what to do, where, what to "
                        "bring; move the rest below the '---' line", severity="warning")  # fmt: skip


def _check_city_contacts(folder: Path, knowledge: Knowledge, rep: Reporter) -> None:
    """A warning per city and contact kind that an answer shows ({contact:KIND}) and the city has no contact of."""
    needed: dict[str, list[str]] = {}
    for topic in knowledge.topics.values():
        for tr in topic.translations.values():
            for kind in re.findall(r"\{contact:([a-z-]+)\}", tr.answer):
                if topic.id not in needed.setdefault(kind, []):
                    needed[kind].append(topic.id)
    for topic in knowledge.topics.values():
        for lang, tr in topic.translations.items():
            for match in ONLY.finditer(tr.answer):
                for slug in match.group(1).split(","):
                    if slug.strip() not in knowledge.cities:
                        message = f"{topic.id} ({lang}): {{only:...}} names '{slug.strip()}', which is no city"
                        path = topic_path(folder.parent, topic.id, lang)
                        rep.add(path, line_of_text(path, match.group(0)), message, "use a slug of cities/")
    for city in knowledge.cities.values():
        have = {c.kind for c in contacts_around(city, knowledge.cities)}  # a town: its district's too
        for kind, topics in sorted(needed.items()):
            if kind not in have:
                rep.add(folder / f"{city.slug}.yaml", 1, f"{city.slug} has no '{kind}' contact; the answers of "
                        f"{', '.join(sorted(topics))} show it", "add a sourced contact of that kind; until then those "
                        "answers point to the integration centre or Service Point", severity="warning")  # fmt: skip


def load_knowledge(root: Path) -> Knowledge:
    """Load the knowledge directory or raise :class:`KnowledgeError` with every problem."""
    result = check_knowledge(root)
    if result.knowledge is None:
        raise KnowledgeError(result.problems)
    return result.knowledge


def _check_languages(path: Path, rep: Reporter) -> dict[str, Language]:
    if not path.is_file():
        rep.add(path, 1, "languages.yaml is missing", "restore it from git")
        return {}
    raw = load_mapping(path, rep)
    if raw is None:
        return {}
    items = raw.get("languages")
    if not isinstance(items, LList) or set(raw) != {"languages"}:
        rep.add(path, raw.line, "expected one key 'languages' with a list of languages", "see knowledge/README.md")
        return {}
    languages: dict[str, Language] = {}
    for index, item in enumerate(items):
        language = validate(Language, item, path, rep)
        if language is None:
            continue
        if language.code in languages:
            rep.add(path, items.line_of(index), f"language '{language.code}' is listed twice", "remove one")
            continue
        languages[language.code] = language
    for index, item in enumerate(items):
        if not isinstance(item, LDict):
            continue
        code, fallback = item.get("code"), item.get("fallback")
        if isinstance(fallback, str) and fallback not in languages:
            rep.add(
                path,
                item.line_of("fallback"),
                f"fallback '{fallback}' is not a listed language",
                "fix the code",
            )
        elif isinstance(code, str) and code in languages:
            seen = [code]
            nxt = languages[code].fallback
            while nxt is not None and nxt in languages and nxt not in seen:
                seen.append(nxt)
                nxt = languages[nxt].fallback
            if nxt is not None and nxt in seen:
                rep.add(
                    path,
                    items.line_of(index),
                    f"fallback loop: {' -> '.join([*seen, nxt])}",
                    "one language must end the chain (no fallback)",
                )
    return languages


def _check_intent(path: Path, codes: set[str], rep: Reporter, *, required: bool) -> Intent | None:
    if not path.is_file():
        if required:
            rep.add(path, 1, f"{path.name} is missing", "restore it from git")
        return None
    loaded = load_validated(Intent, path, rep)
    if loaded is None:
        return None
    raw, intent = loaded
    raw_tr = raw.get("translations")
    for lang, tr in intent.translations.items():
        line = raw_tr.line_of(lang) if isinstance(raw_tr, LDict) else raw.line
        if lang not in codes:
            rep.add(path, line, f"language '{lang}' is not in languages.yaml", "add it there or fix the code")
        if tr.revision > intent.revision:
            rep.add(path, line, f"{lang}: revision newer than the file's revision", "fix the revision")
        raw_lang = raw_tr.get(lang) if isinstance(raw_tr, LDict) else None
        check_review(path, raw_lang if isinstance(raw_lang, LDict) else raw, tr, rep)
    return intent


def _check_cities(folder: Path, codes: set[str], rep: Reporter) -> dict[str, City]:
    cities: dict[str, City] = {}
    alias_owner: dict[str, str] = {}
    for path in _yaml_files(folder, rep):
        raw = load_mapping(path, rep)
        if raw is None:
            continue
        city = validate(City, raw, path, rep)
        if city is None:
            continue
        if city.slug != path.stem:
            rep.add(
                path,
                raw.line_of("slug"),
                f"slug '{city.slug}' differs from the file name",
                f"use {path.stem}",
            )
        names = raw.get("names")
        if "de" not in city.names:
            rep.add(path, raw.line_of("names"), "names: the German name (de) is required", "add de: ...")
        for lang in city.names:
            if lang not in codes:
                line = names.line_of(lang) if isinstance(names, LDict) else raw.line
                rep.add(path, line, f"names: language '{lang}' is not in languages.yaml", "fix the code")
        raw_contacts = raw.get("contacts")
        for index, contact in enumerate(city.contacts):
            raw_contact = raw_contacts[index] if isinstance(raw_contacts, LList) else None
            for lang in contact.languages:
                if lang not in codes:
                    line = raw_contact.line_of("languages") if isinstance(raw_contact, LDict) else raw.line
                    rep.add(path, line, f"contacts: language '{lang}' is not in languages.yaml", "fix the code")
        for spelling in (*city.aliases, *city.names.values()):
            key = spelling.casefold()
            owner = alias_owner.setdefault(key, city.slug)
            if owner != city.slug:
                rep.add(
                    path,
                    raw.line_of("aliases"),
                    f"spelling '{spelling}' is also used by city '{owner}'",
                    "a spelling must name one city only",
                )
        cities[city.slug] = city
    return dict(sorted(cities.items()))
