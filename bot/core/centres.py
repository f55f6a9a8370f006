"""Staff destinations for handoffs: which integration centre serves which city, and when it is open.

Deployment configuration, not volunteer knowledge: a YAML file named by ``LOTSE_CENTRES`` (see
``centres.example.yaml``), validated at start with ``file:line`` errors like the knowledge files.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from bot.core.checking import Problem, Reporter, validate
from bot.core.model import DAYS, Code, Day, Hours, Slug, Text, frozen_map
from bot.core.yamlsafe import LDict, LList, load_yaml

DEFAULT = "*"
_SECRET_ENV = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{value}' (e.g. Europe/Berlin)") from exc
    return value


def _secret_env(value: str) -> str:
    if not _SECRET_ENV.match(value):
        raise ValueError(f"'{value}' is not an environment variable name (A-Z, 0-9, _)")
    return value


class Webhook(BaseModel):
    """Where ticket events are POSTed, signed with HMAC-SHA256 using the secret from an environment variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    url: Annotated[StrictStr, Field(pattern=r"^https://\S+$")]
    secret_env: Annotated[StrictStr, AfterValidator(_secret_env)]


class Centre(BaseModel):
    """One staff destination."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Slug
    name: Text
    cities: tuple[StrictStr, ...] = Field(min_length=1)
    chat_id: StrictInt
    timezone: Annotated[StrictStr, AfterValidator(_zone)] = "Europe/Berlin"
    hours: Annotated[Mapping[Day, Hours], AfterValidator(frozen_map)] = Field(
        default_factory=lambda: MappingProxyType({})
    )
    closed: tuple[date, ...] = ()
    languages: tuple[Code, ...] = ()
    webhook: Webhook | None = None

    @field_validator("chat_id")
    @classmethod
    def _group(cls, value: int) -> int:
        if value >= 0:
            raise ValueError("chat_id of a staff group is negative (supergroups start with -100)")
        if value < -(2**52):  # Telegram's chat ids fit in 52 bits (a double); anything longer is mistyped
            raise ValueError("chat_id is too long for a Telegram chat id; copy it again from the group")
        return value

    def is_open(self, at: datetime) -> bool:
        """Whether the office is open at ``at`` (any time zone)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.closed:
            return False
        return any(start <= local.time() < end for start, end in self._spans(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The next moment the office opens after ``at`` (in its time zone), or None if it never opens."""
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        for offset in range(0, 370):
            day = local.date() + timedelta(days=offset)
            if day in self.closed:
                continue
            for start, _ in self._spans(day):
                opening = datetime.combine(day, start, tzinfo=zone)
                if opening > local:
                    return opening
        return None

    def _spans(self, day: date) -> list[tuple[time, time]]:
        text = self.hours.get(DAYS[day.weekday()])  # type: ignore[call-overload]
        if not text:
            return []
        spans = []
        for part in text.split(","):
            start, end = part.strip().split("-")
            spans.append((_time(start), _time(end)))
        return spans


def _time(value: str) -> time:
    hours, minutes = (int(x) for x in value.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


@dataclass(frozen=True, slots=True)
class Centres:
    """All staff destinations; ``for_city`` picks the one for a city or the default ("*")."""

    by_id: Mapping[str, Centre]

    def for_city(self, *cities: str | None) -> Centre | None:
        """The centre of the first of ``cities`` that one names (a town, then its district), else the default."""
        for city in cities:
            for centre in self.by_id.values():
                if city is not None and city in centre.cities:
                    return centre
        return next((centre for centre in self.by_id.values() if DEFAULT in centre.cities), None)

    @property
    def staff_chat_ids(self) -> frozenset[int]:
        return frozenset(c.chat_id for c in self.by_id.values())


class CentresError(Exception):
    """The centres file has errors; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))


def load_centres(path: Path, known_cities: set[str]) -> Centres:
    """Read and validate the centres file; raise :class:`CentresError` with every problem."""
    rep = Reporter(path.parent)
    loaded = load_yaml(path)
    for issue in loaded.issues:
        rep.add(path, issue.line, issue.message, issue.hint)
    raw = loaded.data
    centres: dict[str, Centre] = {}
    if not loaded.issues:
        if not isinstance(raw, LDict) or not isinstance(raw.get("centres"), LList) or set(raw) != {"centres"}:
            line = raw.line if isinstance(raw, LDict | LList) else 1
            rep.add(path, line, "expected one key 'centres' with a list of centres", "see centres.example.yaml")
        else:
            items: LList = raw["centres"]
            defaults = 0
            for index, item in enumerate(items):
                centre = validate(Centre, item, path, rep)
                if centre is None:
                    continue
                line = items.line_of(index)
                if centre.id in centres:
                    rep.add(path, line, f"centre id '{centre.id}' is used twice", "give each centre its own id")
                for city in centre.cities:
                    if city == DEFAULT:
                        defaults += 1
                    elif city not in known_cities:
                        rep.add(path, line, f"unknown city '{city}'", "use a slug from knowledge/cities/ or '*'")
                    elif any(city in other.cities for other in centres.values()):
                        rep.add(path, line, f"city '{city}' has two centres", "each city belongs to one centre")
                centres[centre.id] = centre
            if defaults > 1:
                rep.add(path, items.line, "more than one default centre ('*')", "keep one")
    # The shared validation points volunteers to knowledge/README.md; this file is described in centres.example.yaml.
    errors = [
        dataclasses.replace(p, hint=p.hint.replace("knowledge/README.md", "centres.example.yaml") if p.hint else p.hint)
        for p in rep.problems
        if p.severity == "error"
    ]
    if errors:
        raise CentresError(errors)
    return Centres(MappingProxyType(centres))
