"""What one message costs the database: a question of a person without a case is two short transactions (the flood
gate with the profile, the case check and the person's turn; then the changed fields with the end of the turn)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from tests.e2e.conftest import Lotse, ready
from tests.e2e.test_handoff import open_case


@contextmanager
def transactions(engine: Engine) -> Iterator[list[str]]:
    """The transactions begun on ``engine`` meanwhile (each as the first statement it ran)."""
    begun: list[str] = []
    pending: list[bool] = []

    def on_begin(conn: object) -> None:
        pending.append(True)

    def on_statement(conn: object, cursor: object, statement: str, *args: object) -> None:
        if pending:
            pending.clear()
            if not statement.startswith("SELECT count(*)"):  # the harness's idle check (OutboxWatch), not Lotse
                begun.append(statement.split("\n")[0][:60])

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_statement)


async def test_a_question_costs_two_transactions_and_a_case_one_more(desk: Lotse) -> None:
    user = await ready(desk, 7070, "de")
    await desk.server.settle()
    with transactions(desk.stores.engine) as begun:
        await user.send("wo finde ich einen kinderarzt")
        await desk.server.settle()
    assert len(begun) == 2, begun  # no case lookup: the gate's statement said there is none
    await open_case(desk, user, "Mein Vermieter will mich rauswerfen")
    await desk.server.settle()
    with transactions(desk.stores.engine) as begun:
        user.push_text("Ich habe noch eine Frage dazu")  # relayed to the staff (no reply, a 👍 when it arrived)
        await desk.server.settle()
    # the gate (which finds the case) and the end of the turn, as before; now also the case lookup and the relay
    # with its delivery (and the outbox worker's own transactions that send it)
    people = [statement for statement in begun if statement.startswith(("SELECT users", "UPDATE users"))]
    assert len(people) == 2, begun
    assert sum(statement.startswith("SELECT tickets") for statement in begun) >= 1, begun
