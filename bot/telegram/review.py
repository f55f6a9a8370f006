"""Once a week the administrators (``LOTSE_ADMIN_IDS``) get the knowledge's review list (``coverage --stale``):
outdated and unreviewed translations, contacts whose source was read long ago or without a date. With several
instances one of them sends it (a job turn in the database), and a restart does not send it again within the week."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.core.coverage import stale
from bot.telegram.destinations import tell_admins
from bot.telegram.services import KEY, LotseContext, Services

EVERY = 7 * 86400.0
CONTACT_AGE_DAYS = 180


async def weekly(context: LotseContext) -> None:
    """Hourly job: the review list, if this week's has not gone out yet (from any instance)."""
    svc: Services = context.application.bot_data[KEY]
    if not svc.admin_ids or svc.jobs is None:
        return
    if not await svc.jobs.take_turn("review-list", time.time(), EVERY - 60):
        return
    today = datetime.now(UTC).date()
    found = stale(svc.conversation.knowledge, today, CONTACT_AGE_DAYS)
    text = "\n".join(["The knowledge to look at again this week (python -m bot coverage --stale):", *found.lines(15)])
    await tell_admins(context.bot, svc.admin_ids, text, "the review list")
