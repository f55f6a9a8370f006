"""Right-to-left answers: every Latin, number, address and command run keeps its order, punctuation stays outside.

The display order is computed with python-bidi (the Unicode bidirectional algorithm of the Rust crate unicode-bidi)
for every topic in Arabic, Farsi and Pashto and every city.
"""

from __future__ import annotations

import re

import pytest
from bidi import get_display

from bot.core.dialogue import Dialogue
from bot.core.render import LRI, PDI, isolate_ltr

RTL = ("ar", "fa", "ps")
_RUN = re.compile(f"{LRI}([^{LRI}{PDI}]*){PDI}")
_ENTITY = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w/])/[A-Za-z][A-Za-z0-9_]*|\+?\d[\d /-]{5,}\d")


def _problems(text: str) -> list[str]:
    found = []
    for match in _RUN.finditer(text):
        run = match.group(1)
        if re.search(r"[.,;:!?،؛]$", run) and not run.startswith("http"):
            found.append(f"punctuation inside the isolate: {run!r}")
        if run.count("(") != run.count(")"):
            found.append(f"a bracket without its partner inside the isolate: {run!r}")
    for entity in _ENTITY.finditer(text.replace(LRI, "").replace(PDI, "")):
        value = entity.group(0).rstrip(".,;:!?)")
        if value not in text:
            found.append(f"an isolate mark inside {value!r}: Telegram would not recognise it")
    for line in text.split("\n"):
        shown = get_display(line, base_dir="R")
        for run in _RUN.findall(line):
            if run.strip() and run not in shown:
                found.append(f"{run!r} is not shown in its own order: {shown!r}")
        for run in re.findall(rf"\({LRI}([^{PDI}]*){PDI}\)", line):
            if f"){LRI}{run}{PDI}(" not in shown and f"){run}(" not in shown.replace(LRI, "").replace(PDI, ""):
                found.append(f"the brackets around {run!r} are not mirrored around it: {shown!r}")
    return found


def test_the_broken_pattern_is_caught_and_not_produced() -> None:
    assert _problems(f"راجع طبيب العائلة ({LRI}Hausarzt).{PDI}")  # how answers looked before
    assert _problems(f"اكتب /{LRI}city{PDI}")
    assert isolate_ltr("راجع طبيب العائلة (Hausarzt).", "rtl") == f"راجع طبيب العائلة ({LRI}Hausarzt{PDI})."
    assert isolate_ltr("اكتب /city للمدينة.", "rtl") == f"اكتب {LRI}/city{PDI} للمدينة."
    text = "اتصل 0221 221-0 أو https://www.stadt-koeln.de/leben/ أو info@ki-koeln.de."
    isolated = isolate_ltr(text, "rtl")
    for entity in ("0221 221-0", "https://www.stadt-koeln.de/leben/", "info@ki-koeln.de"):
        assert f"{LRI}{entity}{PDI}" in isolated
    assert not _problems(isolated)
    assert isolate_ltr("Hausarzt (Termin).", "ltr") == "Hausarzt (Termin)."  # left-to-right text is left alone


@pytest.mark.parametrize("lang", RTL)
def test_every_topic_and_city_in_right_to_left_languages(dialogue: Dialogue, lang: str) -> None:
    problems = []
    cities = [None, *sorted(dialogue.knowledge.cities)]
    for topic in sorted(dialogue.knowledge.topics):
        for city in cities:
            rendered = dialogue.render(topic, lang, city)
            problems += [f"{topic}/{city}: {p}" for p in _problems(rendered.text)]
    assert not problems, f"{len(problems)} problems, e.g. {problems[:5]}"
