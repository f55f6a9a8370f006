"""Commands for administrators (LOTSE_ADMIN_IDS): what people found helpful, what Lotse could not answer."""

from __future__ import annotations

from telegram import Update

from bot.core.gaps import DAY, day_of, group, report
from bot.core.replies import Reply
from bot.telegram.services import LotseContext, send, services


async def feedback(update: Update, context: LotseContext) -> None:
    """/feedback: 👍/👎 per topic and language, least helpful first."""
    counts = await services(context).feedback.counts()
    if not counts:
        await send(update, context, (Reply("No feedback yet."),))
        return
    rows = sorted(counts.items(), key=lambda kv: (kv[1][0] - kv[1][1], -sum(kv[1])))
    lines = [f"{topic} ({lang}): 👍 {up}  👎 {down}" for (topic, lang), (up, down) in rows[:40]]
    await send(update, context, (Reply("\n".join(lines), title="Feedback per topic (least helpful first)"),))


GAPS_DAYS = 14


async def gaps(update: Update, context: LotseContext) -> None:
    """/gaps: the worklist of the last 14 days (``python -m bot gaps``): similar questions grouped, largest first."""
    svc = services(context)
    if svc.gaps is None:
        await send(update, context, (Reply("No gaps are recorded here."),))
        return
    found = group(await svc.gaps.since(day_of(svc.clock() - GAPS_DAYS * DAY)))
    title = f"What Lotse could not answer well, last {GAPS_DAYS} days"
    await send(update, context, (Reply(report(found, limit=15), title=title),))
