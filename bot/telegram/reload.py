"""Live reload of the knowledge: a changed knowledge folder (watched with watchfiles) or an administrator's /reload
is read, checked and swapped in without a restart.

The new knowledge is loaded beside the running one (in a worker thread: a changed knowledge trains its matcher, 10 s
or more) and takes over at once (:meth:`bot.core.screens.Screens.use`); a message being answered finishes with the
previous one, and no message waits. A broken edit keeps the previous knowledge answering, and the administrators
(``LOTSE_ADMIN_IDS``) are told in Telegram which file and line are wrong.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import cast

from bot.core.knowledge import KnowledgeError
from bot.telegram.destinations import tell_admins
from bot.telegram.services import KEY, LotseApplication, LotseContext, Services

log = logging.getLogger("lotse.telegram")
LOCK = "lotse-reload-lock"
WATCHER = "lotse-knowledge-watcher"
SHOWN = 8  # problems listed in the administrators' message (the check lists all)
QUIET_MS = 1500  # an edit saved as several writes (editors, git) is read once, this long after the last


async def reload_knowledge(application: LotseApplication, why: str) -> str:
    """Read, check and swap in the knowledge; tell the administrators the outcome; return what they were told."""
    svc: Services = application.bot_data[KEY]
    if svc.reload is None:
        return "Reloading the knowledge is not set up in this process."
    lock: asyncio.Lock = application.bot_data.setdefault(LOCK, asyncio.Lock())
    async with lock:  # one reload at a time; a change during a reload is read by the next
        try:
            dialogue = await asyncio.to_thread(svc.reload)
        except KnowledgeError as exc:
            errors = [p for p in exc.problems if p.severity == "error"] or list(exc.problems)
            lines = [problem.format().splitlines()[0] for problem in errors[:SHOWN]]
            if len(errors) > SHOWN:
                lines.append(f"... and {len(errors) - SHOWN} more ('python -m bot check knowledge' lists them all)")
            text = (f"The knowledge was not reloaded ({why}): {len(errors)} error(s); the previous knowledge "
                    "answers on.\n" + "\n".join(lines))  # fmt: skip
            log.warning("knowledge not reloaded (%s): %d error(s)", why, len(errors))
        except Exception as exc:  # unreadable folder, a bug: the running knowledge stays
            text = f"The knowledge was not reloaded ({why}): {type(exc).__name__}; the previous knowledge answers on."
            log.warning("knowledge not reloaded (%s): %s", why, type(exc).__name__)
        else:
            svc.conversation.use(dialogue)
            k = dialogue.knowledge
            counts = f"{len(k.topics)} topics, {len(k.languages)} languages, {len(k.cities)} cities"
            text = f"Knowledge reloaded ({why}): {counts}."
            log.info("knowledge reloaded (%s)", why)
    await tell_admins(application.bot, svc.admin_ids, text, "the reload")
    return text


async def command(update: object, context: LotseContext) -> None:
    """/reload (administrators): read and check the knowledge folder now, and swap it in."""
    await reload_knowledge(cast(LotseApplication, context.application), "/reload")


async def _watch(application: LotseApplication, folder: Path) -> None:
    from watchfiles import awatch

    def knowledge_file(_: object, path: str) -> bool:
        return path.endswith((".yaml", ".yml")) and "/." not in path  # editors' swap and backup files are not

    async for _changes in awatch(folder, watch_filter=knowledge_file, debounce=QUIET_MS, recursive=True):
        await reload_knowledge(application, "a knowledge file changed")


def start_watching(application: LotseApplication) -> None:
    """Watch the knowledge folder (``LOTSE_KNOWLEDGE_WATCH``) until :func:`stop_watching`."""
    svc: Services = application.bot_data[KEY]
    if svc.reload is not None and svc.watch is not None and svc.watch.is_dir():
        application.bot_data[WATCHER] = asyncio.get_running_loop().create_task(_watch(application, svc.watch))


async def stop_watching(application: LotseApplication) -> None:
    task: asyncio.Task[None] | None = application.bot_data.pop(WATCHER, None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
