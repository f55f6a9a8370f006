"""A terminal conversation with Lotse: the same decisions the Telegram bot makes, without a token."""

from __future__ import annotations

from typing import TextIO

from bot.core.dialogue import Dialogue
from bot.core.model import CATEGORIES

HELP = (
    "Type a question in any language. Commands: /language, /city, /menu, /human, /help, /quit.\n"
    "When Lotse offers numbered choices, type the number. After an answer, /more shows the rest and /de the\n"
    "German text to show at an office (the buttons under an answer in Telegram)."
)


def _ask(prompt: str, inp: TextIO, out: TextIO) -> str | None:
    out.write(prompt)
    out.flush()
    line = inp.readline()
    return None if line == "" else line.strip()


def _choose(options: list[tuple[str, str]], prompt: str, inp: TextIO, out: TextIO) -> str | None:
    for number, (_, label) in enumerate(options, start=1):
        print(f"  {number}. {label}", file=out)
    while True:
        answer = _ask(prompt, inp, out)
        if answer is None:
            return None
        if answer.isdecimal() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1][0]
        for key, label in options:
            if answer.casefold() in (key.casefold(), label.casefold()):
                return key
        print("Please type one of the numbers.", file=out)


def _choose_town(dialogue: Dialogue, lang: str, inp: TextIO, out: TextIO) -> str | None:
    """The town step of Telegram in the terminal: type a town (any spelling, a postcode), confirm one of those
    found; the city file whose contacts its people see, or None ("-")."""
    towns = dialogue.towns
    while True:
        typed = _ask("your town or its postcode (- for none)> ", inp, out)
        if typed is None or typed.strip() == "-":
            return None
        hits = towns.search(typed)
        if not hits:
            print("No town found by that name: type it again, or - for none.", file=out)
            continue
        options = [(hit.place, towns.label(hit.place, lang)) for hit in hits] + [("?", "none of these")]
        picked = _choose(options, "town> ", inp, out)
        if picked is None:
            return None
        if picked != "?":
            return towns.contacts_of(picked)


def run_chat(dialogue: Dialogue, lang: str | None, city: str | None, inp: TextIO, out: TextIO) -> int:
    """Run the conversation until /quit or end of input; returns the exit code."""
    k = dialogue.knowledge
    print("Lotse — arrival helper (terminal). " + HELP, file=out)
    if lang is None or lang not in k.languages:
        picked = _choose([(c, f"{lg.native} ({lg.english})") for c, lg in k.languages.items()], "language> ", inp, out)
        if picked is None:
            return 0
        lang = picked
    return _loop(dialogue, lang, city, inp, out)


def _loop(dialogue: Dialogue, lang: str, city: str | None, inp: TextIO, out: TextIO) -> int:
    k = dialogue.knowledge
    if city is not None and city not in k.cities:
        print(f"Unknown city '{city}'.", file=out)
        city = None
    pending: list[str] = []
    alarm: str | None = None  # the last message answered as an emergency, for /ne
    shown: str | None = None  # the last topic answered, for /more and /de
    while True:
        line = _ask(f"[{lang}{'/' + city if city else ''}] you> ", inp, out)
        if line is None or line in ("/quit", "/exit"):
            return 0
        if not line:
            continue
        if line == "/help":
            print(HELP, file=out)
        elif line in ("/language", "/lang"):
            lang = _choose([(c, lg.native) for c, lg in k.languages.items()], "language> ", inp, out) or lang
        elif line == "/city" and k.municipalities:
            city = _choose_town(dialogue, lang, inp, out)
        elif line == "/city":
            options = [(slug, c.name(lang)) for slug, c in k.cities.items()] + [("-", "other / none")]
            picked = _choose(options, "city> ", inp, out)
            city = None if picked in (None, "-") else picked
        elif line == "/menu":
            pending = [tid for cat in CATEGORIES for tid, t in k.topics.items() if t.category == cat]
            for number, tid in enumerate(pending, start=1):
                print(f"  {number}. {dialogue.title(tid, lang)}", file=out)
        elif line == "/human":
            print(
                "(In Telegram, this starts the handoff to the integration centre, after your consent.)",
                file=out,
            )
        elif line == "/ne" and alarm is not None:
            decision = dialogue.decide(alarm, lang, city, emergency=False)
            print(f"lotse [{decision.kind}]> {decision.text}", file=out)
            pending = list(decision.candidates) if decision.kind == "clarify" else []
            alarm = None
        elif line in ("/more", "/de") and shown is not None:
            print(
                f"lotse> {_more(dialogue, shown, lang, city) if line == '/more' else _german(dialogue, shown, city)}",
                file=out,
            )
        elif line.isdecimal() and pending and 1 <= int(line) <= len(pending):
            shown = pending[int(line) - 1]
            text, _ = dialogue.topic_text(shown, lang, city)
            print(f"lotse> {text}", file=out)
            _offer(dialogue, shown, lang, city, out)
            pending = []
        else:
            decision = dialogue.decide(line, lang, city)
            city = city or decision.city
            print(f"lotse [{decision.kind}]> {decision.text}", file=out)
            pending = list(decision.candidates) if decision.kind == "clarify" else []
            alarm = line if decision.kind == "emergency" else None
            shown = decision.topic if decision.kind == "answer" else None
            if shown is not None:
                _offer(dialogue, shown, lang, city, out)
            if alarm is not None:
                label = dialogue.emergency_line(lang, "not-emergency") or "Not an emergency"
                print(f"  /ne = {label}", file=out)


def _offer(dialogue: Dialogue, topic: str, lang: str, city: str | None, out: TextIO) -> None:
    """The answer's buttons, as commands."""
    t = dialogue.t(lang)
    offers = [f"/more = {t.gettext('➕ More')}"] if dialogue.topic_more(topic, lang, city) else []
    if dialogue.language(lang) != "de":
        offers.append(f"/de = {t.gettext('🇩🇪 Show in German')}")
    if offers:
        print("  " + "   ".join(offers), file=out)


def _more(dialogue: Dialogue, topic: str, lang: str, city: str | None) -> str:
    return dialogue.topic_more(topic, lang, city) or "(nothing more for this answer)"


def _german(dialogue: Dialogue, topic: str, city: str | None) -> str:
    german = dialogue.render(topic, "de", city)
    return f"{german.title}\n\n{german.text}"
