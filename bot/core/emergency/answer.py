"""The emergency answer fitted to the situation: whom to call first, and a German sentence for the dispatcher."""

from __future__ import annotations

from bot.core.model import City, Knowledge

GENERIC_DISPATCHER = "Ich brauche einen Krankenwagen."
SAFETY_FALLBACK = "☎ 112"
# Marks the paragraph of the emergency topic's answer that holds the generic sentence to read out; it is replaced by
# the sentence that fits the situation.
READ_OUT_MARK = "Ich brauche"


def line(knowledge: Knowledge, lang: str, key: str) -> str | None:
    """A short emergency text (``lines`` of ``emergency/<lang>.yaml``) in ``lang`` or its fallback languages."""
    emergency = knowledge.emergency
    if emergency is None:
        return None
    for code in knowledge.fallback_chain(lang):
        words = emergency.words.get(code)
        if words is not None and key in words.lines:
            return words.lines[key]
    return None


def safety_line(knowledge: Knowledge, lang: str) -> str:
    """ "In danger right now? Call 112." in ``lang``."""
    return line(knowledge, lang, "safety-net") or SAFETY_FALLBACK


def calls(knowledge: Knowledge, situations: tuple[str, ...]) -> list[str]:
    """The services to call for these situations, most important first, each once."""
    emergency = knowledge.emergency
    if emergency is None:
        return []
    out: list[str] = []
    for name in situations:
        situation = emergency.situations.get(name)
        for call in situation.call if situation else ():
            if call not in out:
                out.append(call)
    return out


def dispatcher_sentence(knowledge: Knowledge, situations: tuple[str, ...], city: City | None) -> str:
    """The German sentence to read out on the phone, with the person's city."""
    emergency = knowledge.emergency
    first = emergency.situations.get(situations[0]) if emergency and situations else None
    sentence = first.dispatcher if first else GENERIC_DISPATCHER
    place = f"…, {city.name('de')}" if city else "…"
    return f"„{sentence} Die Adresse ist: {place}“"


def emergency_text(knowledge: Knowledge, lang: str, answer: str, city: City | None, situations: tuple[str, ...]) -> str:
    """The emergency topic's answer led by the situation's numbers, with the situation's sentence to read out."""
    emergency = knowledge.emergency
    numbers: list[str] = []
    for call in calls(knowledge, situations):
        text = line(knowledge, lang, call)
        if text is None:
            continue
        service = emergency.services.get(call) if emergency else None
        if "{phone}" in text:
            if service is None:
                continue
            text = text.replace("{phone}", service.phone)
        numbers.append(f"☎ {text}")
    read = line(knowledge, lang, "read-this")
    read_out = "\n".join(part for part in (read, dispatcher_sentence(knowledge, situations, city)) if part)
    paragraphs = answer.split("\n\n")
    out = ["\n".join(numbers)] if numbers else []
    out += [read_out if READ_OUT_MARK in paragraph else paragraph for paragraph in paragraphs]
    if not any(READ_OUT_MARK in paragraph for paragraph in paragraphs):
        out.append(read_out)
    return "\n\n".join(out)
