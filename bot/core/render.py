"""Turning knowledge into the plain text a person reads (the Telegram edge escapes and formats it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.core.districts import contacts_around
from bot.core.i18n import Translator
from bot.core.model import DAYS, City, Contact, Knowledge, Topic, Translation

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LATIN = "A-Za-zÀ-ÖØ-öø-ɏ"  # with German and other Latin letters: "Köln", "für" stay one run
# What keeps its left-to-right order inside right-to-left text, each as a whole: a web address, an e-mail address,
# a command, a phone number or other number, a run of Latin words (with the spaces, hyphens, slashes and balanced
# brackets between them). Sentence punctuation and brackets around a run stay outside, so they mirror correctly.
_LTR_RUN = re.compile(
    r"https?://[^\s<>\u2066-\u2069]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w/])/[A-Za-z][A-Za-z0-9_]*(?:@\w+)?"
    rf"|[{_LATIN}0-9+](?:[{_LATIN}0-9 .,:/'’&+()-]*[{_LATIN}0-9)])?"
)
_TRAILING = ".,;:!?'’ -/"
_URL_TRAILING = ".,;:!?'’"  # a web address may end with "/"
LRI, PDI = "\u2066", "\u2069"
PLACE = "\x1e"  # marks the block a {contact:...} placeholder became (removed before anyone reads the text)
ONLY = re.compile(r"\{only:([a-z0-9,\s-]+)\}")  # a line for some cities only: "{only:duesseldorf}Welcome Points ..."
SHORT_LIMIT = 600  # characters of the short answer (the first message, title aside)
MORE_MARK = re.compile(r"\n[ \t]*---[ \t]*\n")  # in an answer, a line "---" ends the short answer
_SENTENCE_END = re.compile(r"(?<=[.!?؟।።])\s+")


@dataclass(frozen=True, slots=True)
class RenderedTopic:
    """A topic's text in the best available language."""

    title: str
    text: str  # the short answer: the first message
    lang: str
    fell_back: bool
    more: str | None = None  # the rest, behind a "More" button (None: nothing more)


def isolate_ltr(text: str, direction: str) -> str:
    """In right-to-left text, wrap each web address, e-mail address, command, number and run of Latin words in a
    left-to-right isolate so its order survives; punctuation and brackets around it stay outside."""
    if direction != "rtl":
        return text
    return _LTR_RUN.sub(_isolated, text)


def _isolated(match: re.Match[str]) -> str:
    whole = match.group(0)
    run = _trimmed(whole)
    rest = whole[len(run) :]
    if rest:  # what was cut off (") : Servicestelle") may hold another run
        rest = rest[0] + _LTR_RUN.sub(_isolated, rest[1:])
    return f"{LRI}{run}{PDI}{rest}" if run else rest


def _trimmed(run: str) -> str:
    """The run without what belongs to the sentence around it: trailing punctuation, and a closing bracket (or the
    text after an opening one) that has no partner inside the run."""
    depth = 0
    for index, char in enumerate(run):  # a closing bracket opened before the run ends it
        depth += (char == "(") - (char == ")")
        if depth < 0:
            run = run[:index]
            break
    trailing = _URL_TRAILING if run.startswith(("http://", "https://")) else _TRAILING
    while True:
        before = run
        run = run.rstrip(trailing)
        if run.count(")") > run.count("("):
            run = run[:-1] if run.endswith(")") else run
        if run.count("(") > run.count(")"):
            run = run[: run.rfind("(")]
        if run == before:
            return run


def translation_for(topic: Topic, lang: str, knowledge: Knowledge) -> tuple[str, Translation]:
    """The translation of ``topic`` in ``lang`` or its fallback chain."""
    for code in knowledge.fallback_chain(lang):
        tr = topic.translations.get(code)
        if tr is not None:
            return code, tr
    code, tr = next(iter(topic.translations.items()))
    return code, tr


def _day_names(lang: str) -> list[str]:
    try:
        locale = Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    names = locale.days["format"]["abbreviated"]
    return [str(names[i]) for i in range(7)]


def format_hours(hours: Mapping[Any, str] | None, lang: str) -> str:
    """Opening hours with day names in ``lang``; consecutive days with equal hours are joined."""
    if not hours:
        return ""
    names = _day_names(lang)
    parts: list[str] = []
    run: list[int] = []
    for i, day in enumerate(DAYS):
        value = hours.get(day)
        if run and value == hours.get(DAYS[run[-1]]) and value is not None:
            run.append(i)
            continue
        if run:
            parts.append(_span(names, run, hours[DAYS[run[0]]]))
        run = [i] if value is not None else []
    if run:
        parts.append(_span(names, run, hours[DAYS[run[0]]]))
    return "; ".join(parts)


def _span(names: list[str], run: list[int], value: str) -> str:
    label = names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}"
    return f"{label} {value}"


def international(phone: str) -> str:
    """A German phone number as a phone abroad or a SIM from home dials it, and as Telegram makes it tappable:
    "0221 / 221-0" -> "+49 221 221-0"; short numbers (112, 116 117) stay as they are."""
    number = re.sub(r"\s*/\s*", " ", phone.strip()).replace("(0)", "").replace("  ", " ")
    if number.startswith("+"):
        return re.sub(r"\s+", " ", number)
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0") and sum(ch.isdigit() for ch in number) >= 6:
        return "+49 " + number[1:].lstrip()
    return number


def format_contact(contact: Contact, lang: str, knowledge: Knowledge) -> str:
    """One contact as short lines."""
    lines = [f"📍 {contact.name}"]
    if contact.address:
        lines.append(contact.address)
    if contact.phone:
        lines.append(f"☎ {international(contact.phone)}")
    if contact.email:
        lines.append(f"✉ {contact.email}")
    if contact.url:
        lines.append(f"🌐 {contact.url}")
    if contact.hours:
        lines.append(f"🕒 {format_hours(contact.hours, lang)}")
    if contact.languages:
        names = [knowledge.languages[c].native if c in knowledge.languages else c for c in contact.languages]
        lines.append("🗣 " + ", ".join(names))
    return "\n".join(lines)


def contacts_text(
    kind: str, city: City | None, lang: str, knowledge: Knowledge, t: Translator, shown_before: set[int] | None = None
) -> str:
    """What a ``{contact:KIND}`` placeholder becomes for this person.

    ``shown_before`` collects the contacts an answer already shows (by identity), so that a second placeholder
    never repeats them; a placeholder whose contacts were all shown becomes empty.
    """
    if city is None:
        return t.gettext("Tell me your city with /city and I will show you the local addresses.")
    around = contacts_around(city, knowledge.cities)
    found = [c for c in city.contacts if c.kind == kind] or [c for c in around if c.kind == kind]
    intro = ""
    if not found:
        found = [c for c in around if c.kind in ("integration-centre", "service-point")]
        intro = t.gettext("I have no address of this kind for {city} yet. Ask here:").format(city=city.name(lang))
    if not found:
        return t.gettext("Ask at the Service Point or the integration centre of {city}.").format(city=city.name(lang))
    if shown_before is not None:
        found = [c for c in found if id(c) not in shown_before]
        if not found:
            return ""
        shown_before.update(id(c) for c in found[:4])
    shown = found[:4]
    body = "\n\n".join(format_contact(c, lang, knowledge) for c in shown)
    if len(found) > len(shown):
        more = len(found) - len(shown)
        body += "\n" + t.ngettext("… and %(num)d more place.", "… and %(num)d more places.", more) % {"num": more}
    return f"{intro}\n{body}" if intro else body


def render_topic(topic: Topic, lang: str, city: City | None, knowledge: Knowledge, t: Translator) -> RenderedTopic:
    """The topic's title and answer for ``lang`` with placeholders filled for ``city``."""
    shown_lang, tr = translation_for(topic, lang, knowledge)
    seen: set[str] = set()
    contacts_shown: set[int] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "city":
            return city.name(lang) if city else t.gettext("your city")
        value = contacts_text(name.removeprefix("contact:"), city, lang, knowledge, t, contacts_shown)
        if value in seen:
            return ""
        seen.add(value)
        return f"\n\n{PLACE}{value}\n\n" if value else ""  # a block of its own: the short answer picks one

    parts = MORE_MARK.split(_for_city(tr.answer.strip(), city), maxsplit=1)
    short = _tidy(_PLACEHOLDER.sub(fill, parts[0]))
    more = _tidy(_PLACEHOLDER.sub(fill, parts[1])) if len(parts) > 1 else None
    if more is None:
        short, more = split_short(short)
    short, more = short.replace(PLACE, ""), more.replace(PLACE, "") if more else None
    direction = knowledge.languages[shown_lang].direction if shown_lang in knowledge.languages else "ltr"
    more = isolate_ltr(more, direction) if more else None
    return RenderedTopic(tr.title, isolate_ltr(short, direction), shown_lang, shown_lang != lang, more)


def _for_city(answer: str, city: City | None) -> str:
    """The answer without the lines meant for other cities (``{only:slug,...}`` at a line's start)."""
    lines = []
    for line in answer.split("\n"):
        match = ONLY.match(line)
        if match is None:
            lines.append(line)
        elif city is not None and city.slug in {s.strip() for s in match.group(1).split(",")}:
            lines.append(line[match.end() :])
    return "\n".join(lines)


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_short(body: str, limit: int = SHORT_LIMIT) -> tuple[str, str | None]:
    """An answer without a "---" line, split for a phone: the lines that fit ``limit`` and the first contact
    (where to go), the rest (further lines and contacts) for "More". A line longer than the room left is cut after
    a sentence."""
    units: list[tuple[str, bool, str]] = []  # (text, is a contact, separator before it)
    for block in body.split("\n\n"):
        if block.startswith(PLACE):  # where to go: the contacts of one kind, or the note that there are none
            units.append((block, True, "\n\n"))
        else:
            units += [(line, False, "\n\n" if k == 0 else "\n") for k, line in enumerate(block.split("\n"))]
    contact = next((i for i, u in enumerate(units) if u[1] and len(u[0]) <= limit // 2), None)
    budget = limit - (len(units[contact][0]) + 2 if contact is not None else 0)
    short: list[tuple[str, bool, str]] = []
    rest: list[tuple[str, bool, str]] = []
    used, full = 0, False
    for index, (text, is_contact, sep) in enumerate(units):
        if index == contact:
            continue
        if is_contact or full or used + len(text) + len(sep) > budget:
            if not is_contact and not full and not short:  # the first line is too long: its first sentences
                head, tail = _sentences(text, budget)
                short.append((head, False, sep))
                if tail:
                    rest.append((tail, False, sep))
            else:
                rest.append((text, is_contact, sep))
            full = full or not is_contact
            continue
        short.append((text, is_contact, sep))
        used += len(text) + len(sep)
    if contact is not None:
        short.append(units[contact])
    return _joined(short), (_joined(rest) or None)


def _joined(units: list[tuple[str, bool, str]]) -> str:
    return "".join((sep if n else "") + text for n, (text, _, sep) in enumerate(units)).strip()


def _sentences(text: str, limit: int) -> tuple[str, str]:
    """The first sentences of ``text`` within ``limit`` characters (at least one), and the rest."""
    sentences = _SENTENCE_END.split(text)
    taken = [sentences[0]]
    for sentence in sentences[1:]:
        if len(" ".join([*taken, sentence])) > limit:
            break
        taken.append(sentence)
    return " ".join(taken), " ".join(sentences[len(taken) :])
