"""Topic folders: ``topics/<id>/topic.yaml`` holds what a topic's languages share (category, related topics,
sources, revision) and ``topics/<id>/<lang>.yaml`` one language (title, answer, examples, keywords, who checked it).

A reviewer of one language edits one short file; a diff shows one language. Every problem is reported at the
``file:line`` of the file that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.core.checking import Reporter, load_mapping, validate
from bot.core.model import CONTACT_KINDS, Language, Reviewable, Topic, TopicShared, Translation
from bot.core.render import ONLY
from bot.core.yamlsafe import LDict, LList

EMERGENCY_TOPIC = "emergency"
TOPIC_FILE = "topic.yaml"
MIGRATE_HINT = "convert it: python -m bot migrate-knowledge (one folder per topic, one file per language)"
ANSWER_SOFT_LIMIT = 900
ANSWER_HARD_LIMIT = 1500
MIN_EXAMPLES_GOOD = 8
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s)>\]\"'«»]+", re.IGNORECASE)
# Phone numbers: 3+ digits, possibly grouped with spaces, / or -; years (19xx, 20xx) and short counts are not numbers.
_PHONE_IN_TEXT = re.compile(r"(?<![\w.,])\+?\d[\d /-]{1,}\d(?![\w.,]?\d)")


def topic_path(root: Path, topic_id: str, lang: str | None = None) -> Path:
    """The file of one language of a topic, or its ``topic.yaml`` (``lang`` None)."""
    return root / "topics" / topic_id / (f"{lang}.yaml" if lang else TOPIC_FILE)


@dataclass(slots=True)
class _Read:
    folder: Path
    shared: LDict
    topic: Topic
    languages: dict[str, LDict]  # language -> its file's located data


def load_topics(root: Path, languages: Mapping[str, Language], rep: Reporter) -> dict[str, Topic]:
    """Every topic folder under ``root/topics`` read and checked; a topic with errors is left out (reported)."""
    folder = root / "topics"
    if not folder.is_dir():
        rep.add(folder, 1, "folder 'topics/' is missing", "create it (see knowledge/README.md)")
        return {}
    folders: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue  # editors' and the migration's temporary folders
        if path.is_dir():
            folders.append(path)
        elif path.suffix in (".yaml", ".yml"):
            rep.add(path, 1, f"topic '{path.stem}' is one file holding all languages (the old layout)", MIGRATE_HINT)
    existing = {path.name for path in folders}
    read = [r for r in (_read(path, languages, rep) for path in folders) if r is not None]
    for item in read:
        _check_topic(item, existing, languages, rep)
    if EMERGENCY_TOPIC not in existing:
        rep.add(folder, 1, "the emergency topic is missing", "restore topics/emergency/ from git")
    return {item.topic.id: item.topic for item in sorted(read, key=lambda r: r.topic.id)}


def _read(folder: Path, languages: Mapping[str, Language], rep: Reporter) -> _Read | None:
    """One topic folder: ``topic.yaml`` and every ``<lang>.yaml``; None when any of them has an error."""
    shared_path = folder / TOPIC_FILE
    if not _SLUG.match(folder.name):
        rep.add(shared_path, 1, f"'{folder.name}' is not a topic id", "name the folder with lower-case letters, "
                "digits and '-', e.g. bank-account")  # fmt: skip
        return None
    if not shared_path.is_file():
        rep.add(shared_path, 1, f"topic '{folder.name}' has no {TOPIC_FILE}", "add it: category, related, "
                "revision and sources (see knowledge/README.md)")  # fmt: skip
        return None
    broken = False
    shared_raw = load_mapping(shared_path, rep)
    shared = validate(TopicShared, shared_raw, shared_path, rep) if shared_raw is not None else None
    raws: dict[str, LDict] = {}
    translations: dict[str, Translation] = {}
    for path in sorted(folder.iterdir()):
        if path.name == TOPIC_FILE or path.name.startswith("."):
            continue
        if path.suffix == ".yml":
            rep.add(path, 1, "wrong file ending '.yml'", "rename the file to end in '.yaml'")
            broken = True
            continue
        if path.suffix != ".yaml":
            continue
        lang = path.stem
        if lang not in languages:
            rep.add(path, 1, f"language '{lang}' is not in languages.yaml", "add it there, or name the file "
                    "<code>.yaml with a listed language code")  # fmt: skip
            broken = True
            continue
        raw = load_mapping(path, rep)
        translation = validate(Translation, raw, path, rep) if raw is not None else None
        if raw is None or translation is None:
            broken = True
            continue
        raws[lang], translations[lang] = raw, translation
    if shared_raw is None or shared is None or broken:
        return None
    topic = Topic(id=folder.name, **dict(shared), translations=translations)
    return _Read(folder, shared_raw, topic, raws)


def check_review(path: Path, raw: LDict, text: Reviewable, rep: Reporter) -> None:
    """``status: reviewed`` needs who reviewed it and when; a checked date cannot lie in the future."""
    if text.status == "reviewed" and (text.reviewed_by is None or text.checked is None):
        missing = " and ".join(n for n, v in (("reviewed_by", text.reviewed_by), ("checked", text.checked)) if not v)
        rep.add(path, raw.line_of("status"), f"status: reviewed needs {missing}", "write who reviewed it "
                "(reviewed_by: a name or handle) and the day (checked: 2026-12-06)")  # fmt: skip
    if text.checked is not None and text.checked > date.today():
        rep.add(path, raw.line_of("checked"), f"checked: {text.checked} lies in the future", "write the day "
                "you checked the text, e.g. checked: 2026-12-06")  # fmt: skip


def _check_topic(read: _Read, existing: set[str], languages: Mapping[str, Language], rep: Reporter) -> None:
    topic, raw = read.topic, read.shared
    shared_path = read.folder / TOPIC_FILE
    related = raw.get("related")
    for index, other in enumerate(topic.related):
        line = related.line_of(index) if isinstance(related, LList) else raw.line_of("related")
        if other == topic.id:
            rep.add(shared_path, line, "a topic cannot be related to itself", "remove it from 'related'")
        elif other not in existing:
            rep.add(shared_path, line, f"related topic '{other}' does not exist", "check the id against topics/")
    unreviewed: list[str] = []
    for lang, tr in topic.translations.items():
        path, lines = read.folder / f"{lang}.yaml", read.languages[lang]
        if tr.revision > topic.revision:
            rep.add(path, lines.line_of("revision"), f"{lang}: revision {tr.revision} is newer than the topic's "
                    f"revision {topic.revision} ({TOPIC_FILE})", "raise the topic's revision or fix this "
                    "one")  # fmt: skip
        elif topic.outdated(lang):
            rep.add(path, lines.line_of("revision"), f"{lang}: translation is outdated (revision {tr.revision}, "
                    f"topic is at {topic.revision})", "update the text from the German version, then set its "
                    "revision", "warning")  # fmt: skip
        check_review(path, lines, tr, rep)
        if not tr.reviewed:
            unreviewed.append(lang)
        _check_answer(path, lines, lang, tr.answer, rep)
        _check_facts(path, lines, lang, tr.answer, topic, rep)
        if len(tr.examples) < MIN_EXAMPLES_GOOD:
            rep.add(path, lines.line_of("examples"), f"{lang}: only {len(tr.examples)} example questions",
                    f"add at least {MIN_EXAMPLES_GOOD}, written as people really type", "warning")  # fmt: skip
        if topic.id == EMERGENCY_TOPIC and not tr.triggers:
            rep.add(path, lines.line, f"{lang}: the emergency topic needs 'triggers'", "list emergency words")
        if topic.id != EMERGENCY_TOPIC and tr.triggers:
            rep.add(path, lines.line_of("triggers"), "only the emergency topic has 'triggers'", "move them to keywords")
    for code, language in languages.items():
        if code not in topic.translations and language.required:
            rep.add(shared_path, 1, f"missing translation '{code}' (required)", f"add {topic.id}/{code}.yaml")
    missing = [code for code in languages if code not in topic.translations and not languages[code].required]
    if missing:
        rep.add(shared_path, 1, f"missing translations: {', '.join(missing)}", "add their <code>.yaml files",
                "warning")  # fmt: skip
    if unreviewed:
        rep.add(shared_path, 1, f"unreviewed translations: {', '.join(unreviewed)}", "a speaker checks the text, "
                "then sets status: reviewed, reviewed_by and checked in that language's file", "warning")  # fmt: skip


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _check_facts(path: Path, block: LDict, where: str, answer: str, topic: Topic, rep: Reporter) -> None:
    """Every web address and phone number in an answer must come from the topic's sources."""
    urls = {s.url.rstrip("/").lower() for s in topic.sources if s.url}
    for match in _URL_IN_TEXT.finditer(answer):
        url = match.group(0).rstrip(".,;:!?").rstrip("/").lower()
        if not any(url == u or url == u.removeprefix("https://") or url.startswith(u + "/") for u in urls):
            rep.add(path, block.text_line("answer", match.start()), f"{where}: web address '{match.group(0)}' is "
                    f"not among the topic's sources ({TOPIC_FILE})", "add the official page to 'sources' (url:), "
                    "or leave the address out")  # fmt: skip
    cited = [_digits(text) for s in topic.sources for text in (s.body or "", s.note or "") if _digits(text)]
    for match in _PHONE_IN_TEXT.finditer(answer):
        text = match.group(0).strip()
        number = _digits(text)
        # A phone number has at least five digits, or is a bare three-digit number (110, 112); ranges like
        # "12-27" (years of age) and years are not phone numbers.
        if not (len(number) >= 5 or (len(number) == 3 and text.isdigit())):
            continue
        if not any(number in digits for digits in cited):
            rep.add(path, block.text_line("answer", match.start()), f"{where}: phone number '{text}' is not in the "
                    f"topic's sources ({TOPIC_FILE})", "name the official body with its number in 'sources' "
                    "(body:), or leave the number out")  # fmt: skip


def _check_answer(path: Path, block: LDict, where: str, answer: str, rep: Reporter) -> None:
    line = block.line_of("answer")
    for match in _PLACEHOLDER.finditer(answer):
        name = match.group(1)
        kind = name.removeprefix("contact:")
        if name == "city" or (name.startswith("contact:") and kind in CONTACT_KINDS):
            continue
        at_line_start = match.start() == 0 or answer[match.start() - 1] == "\n"
        if ONLY.fullmatch(match.group(0)) and at_line_start:
            continue  # a line for some cities only; the city slugs are checked with the cities
        rep.add(path, block.text_line("answer", match.start()), f"{where}: unknown placeholder '{{{name}}}'",
                "use {city}, {contact:KIND} with KIND one of: " + ", ".join(CONTACT_KINDS) + ", or "
                "{only:CITY,...} at the start of a line")  # fmt: skip
    stripped = _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), answer)
    brace = min((i for i in (stripped.find("{"), stripped.find("}")) if i >= 0), default=-1)
    if brace >= 0:
        rep.add(path, block.text_line("answer", brace), f"{where}: unmatched curly brace",
                "placeholders look like {contact:service-point}")  # fmt: skip
    if len(answer) > ANSWER_HARD_LIMIT:
        rep.add(path, line, f"{where}: answer has {len(answer)} characters", f"shorten it below {ANSWER_SOFT_LIMIT}")
    elif len(answer) > ANSWER_SOFT_LIMIT:
        rep.add(path, line, f"{where}: answer has {len(answer)} characters (aim for at most {ANSWER_SOFT_LIMIT})",
                "shorten it: people read this on a small phone", "warning")  # fmt: skip
