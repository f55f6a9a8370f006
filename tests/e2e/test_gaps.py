"""The gaps worklist end to end: what a person asked and Lotse could not answer reaches the volunteers' list, with
nothing that says who asked; ``python -m bot gaps`` groups it."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.core.i18n import translator
from tests.e2e.conftest import Lotse, ready


async def test_unanswered_questions_reach_the_worklist_without_who_asked(
    lotse: Lotse, monkeypatch: pytest.MonkeyPatch
) -> None:
    amal = await ready(lotse, 4101, "de", first_name="Amal")
    bilal = await ready(lotse, 4102, "en", first_name="Bilal")
    await amal.send("kann ich meinen syrischen führerschein umschreiben? 0176 1234 5678")
    await amal.send("führerschein umschreiben lassen wo")
    (choice,) = await bilal.send("card")  # a choice of topics ...
    await bilal.tap(choice.buttons[0][0])  # ... answered by choosing: its gap is erased
    await amal.send("karte")  # a choice nobody took: kept
    (answer,) = await amal.send("wo finde ich eine apotheke")  # answered: not a gap
    await amal.tap("👎")
    await lotse.server.settle()
    with create_engine(lotse.db_url).connect() as conn:
        rows = conn.execute(text("SELECT * FROM gaps")).mappings().all()
    assert sorted(r["kind"] for r in rows) == ["clarify", "fallback", "fallback", "thumbs-down"]
    stored = json.dumps([dict(r) for r in rows], ensure_ascii=False, default=str)
    for trace in ("4101", "4102", "Amal", "Bilal", "0176"):
        assert trace not in stored, trace
    assert all(r["day"] % 86400 == 0 for r in rows)

    monkeypatch.setenv("DATABASE_URL", lotse.db_url)

    async def gaps(*args: str) -> str:  # python -m bot gaps, as an operator runs it (its own event loop)
        out = io.StringIO()
        assert await asyncio.to_thread(main, ["gaps", *args], out) == 0
        return out.getvalue()

    groups = json.loads(await gaps("--json"))
    assert groups[0]["count"] == 2 and groups[0]["languages"] == ["de"]
    assert "führerschein umschreiben lassen wo" in groups[0]["texts"]
    assert ["karte"] in [g["texts"] for g in groups] and ["card"] not in [g["texts"] for g in groups]
    assert {"pharmacy"} in [set(g["topics"]) for g in groups]  # the 👎
    assert (await gaps("--city", "nowhere")).strip() == "No gaps recorded in this period."
    assert (await gaps("--since", "2d")).startswith("4 questions in 3 groups")
    assert translator("de").gettext("💬 Talk to a person") in [label for label, _ in answer.buttons]


def test_a_bad_period_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["gaps", "--since", "forever"])
    assert stop.value.code == 2
    assert "give a number and h, d or w" in capsys.readouterr().err
