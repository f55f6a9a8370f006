"""The container and its deployment files: Dockerfile, .dockerignore, compose.yaml, compose.polling.yaml, Caddyfile,
the operator section of the README, and the compiled catalogs the image ships.

No image can be built here: ``scripts/dockerfile_steps.py`` (run by ``.ci/run``) executes the Dockerfile's steps;
these tests read the files and check that they agree with each other and with ``bot/config.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import load_config
from bot.core.i18n import catalog_path, translator
from tests.conftest import ROOT


def _steps_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dockerfile_steps", ROOT / "scripts" / "dockerfile_steps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


STEPS = _steps_module()


def _config_names() -> set[str]:
    """Every environment variable bot/config.py reads by name (``env.get("X")``, ``env["X"]``, ``_number(env, "X"``)."""
    tree = ast.parse((ROOT / "bot" / "config.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute | ast.Name):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            arg = node.args[0] if func == "get" else node.args[1] if func == "_number" and len(node.args) > 1 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.value, ast.Name)
            and node.value.id == "env"
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
    return {n for n in names if n.isupper()}


CONFIG_NAMES = _config_names()


def _known(name: str) -> bool:
    return name in CONFIG_NAMES or name.startswith("LOTSE_MATCH_")


def _compose(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _last_stage() -> Any:
    return STEPS.parse((ROOT / "Dockerfile").read_text(encoding="utf-8"))[-1]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for step in _last_stage().steps:
        if step.keyword == "ENV":
            for word in step.text.split():
                name, _, value = word.partition("=")
                env[name] = value
    return env


def test_config_names_are_found() -> None:
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "LOTSE_HTTP_PORT", "LOTSE_RETENTION_DAYS", "LOTSE_CENTRES"} <= (
        CONFIG_NAMES
    )
    assert "PROJECT_DIR" not in CONFIG_NAMES


# -- Dockerfile ---------------------------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_slim_python_and_runs_as_a_user() -> None:
    stages = STEPS.parse((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert len(stages) >= 2
    assert all(re.fullmatch(r"python:3\.1[1-9]-slim", stage.base) for stage in stages)
    users = [step.text for step in stages[-1].steps if step.keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(step.text for stage in stages for step in stage.steps if step.keyword == "RUN")
    assert "pybabel compile" in runs, "the catalogs are compiled at build"
    after_user = [s for s in stages[-1].steps[[s.keyword for s in stages[-1].steps].index("USER") :]]
    assert any(s.keyword == "RUN" and "python -m bot ask" in s.text for s in after_user), "the matcher is trained"


def test_dockerfile_ports_health_and_volumes_agree_with_the_config() -> None:
    stage = _last_stage()
    by_keyword: dict[str, list[str]] = {}
    for step in stage.steps:
        by_keyword.setdefault(step.keyword, []).append(step.text)
    defaults = load_config({})
    assert {str(defaults.webhook_port), str(defaults.http_port)} <= set(" ".join(by_keyword["EXPOSE"]).split())
    assert STEPS.exec_form(stage, "HEALTHCHECK") == ["python", "-m", "bot", "health"]
    assert STEPS.exec_form(stage, "CMD")[:4] == ["python", "-m", "bot", "run"]
    volumes = [v for text in by_keyword["VOLUME"] for v in yaml.safe_load(text)]
    env = _image_env()
    assert all(_known(name) for name in env if name.startswith(("LOTSE_", "TELEGRAM_", "DATABASE_", "KNOWLEDGE_")))
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    assert any(database.startswith(v + "/") for v in volumes), "the SQLite file lives on a volume"
    assert not any(env["LOTSE_CACHE_DIR"].startswith(v) for v in volumes), "a volume would hide the trained matcher"
    assert any(s.keyword == "COPY" and s.text.split()[-1] == env["KNOWLEDGE_DIR"] for s in stage.steps)
    writable = next(s.text for s in stage.steps if s.keyword == "RUN" and "install -d" in s.text)
    assert database.rsplit("/", 1)[0] in writable and env["LOTSE_CACHE_DIR"] in writable


def test_dockerignore_keeps_secrets_and_stale_files_out() -> None:
    patterns = STEPS.read_ignore(ROOT)
    for path in [".env", ".venv/bin/python", "locales/de/LC_MESSAGES/messages.mo", "bot/__pycache__/cli.pyc",
                 "lotse.db", "knowledge/x.db-wal", ".git/HEAD"]:  # fmt: skip
        assert STEPS.ignored(path, patterns), path
    for path in ["bot/core/i18n.py", "knowledge/topics/doctor/de.yaml", "locales/de/LC_MESSAGES/messages.po",
                 "pyproject.toml", "README.md"]:  # fmt: skip
        assert not STEPS.ignored(path, patterns), path
    assert STEPS.ignored("a/b/c.txt", ["**/*.txt", "!a/b/c.txt"]) is False


def test_image_paths_are_mapped_and_strangers_refused(tmp_path: Path) -> None:
    mapped = STEPS.map_paths("PATH=/opt/venv/bin:$PATH sqlite:////data/lotse.db /appendix /app", tmp_path)
    assert mapped == f"PATH={tmp_path}/opt/venv/bin:$PATH sqlite:///{tmp_path}/data/lotse.db /appendix {tmp_path}/app"
    assert STEPS.unknown_paths("cp /usr/lib/x /app/y >/dev/null") == ["/usr/lib/x"]
    for stage in STEPS.parse((ROOT / "Dockerfile").read_text(encoding="utf-8")):
        for step in stage.steps:
            if step.keyword == "RUN":
                assert STEPS.unknown_paths(STEPS.flags(step.text)[1]) == [], step.text


# -- compose ------------------------------------------------------------------------------------------------------


def test_compose_runs_two_webhook_replicas_after_a_healthy_database() -> None:
    compose = _compose("compose.yaml")
    services = compose["services"]
    assert set(services) == {"db", "lotse", "caddy"}
    bot, db = services["lotse"], services["db"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["command"] == ["python", "-m", "bot", "run", "--webhook"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert all(_known(name) for name in bot["environment"]), set(bot["environment"]) - CONFIG_NAMES
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert bot["environment"]["LOTSE_WEBHOOK_URL"].startswith("https://${DOMAIN")
    assert "pg_isready" in db["healthcheck"]["test"]
    assert db["image"].startswith("postgres:")
    major = int(db["image"].split(":")[1].split(".")[0])
    volume, _, target = db["volumes"][0].partition(":")
    assert volume in compose["volumes"], "a named volume"
    assert target == ("/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data")


def test_caddy_balances_over_the_replicas_on_the_webhook_port_and_path() -> None:
    compose = _compose("compose.yaml")
    caddy = compose["services"]["caddy"]
    assert caddy["image"].startswith("caddy:")
    assert "443:443" in caddy["ports"]
    mount = next(v for v in caddy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (ROOT / mount.split(":")[0]).read_text(encoding="utf-8")
    found = re.search(r"dynamic a (\S+) (\d+)", caddyfile)
    assert found is not None
    env = compose["services"]["lotse"]["environment"]
    assert found.group(1) == "lotse" and found.group(2) == env["LOTSE_WEBHOOK_PORT"]
    assert "lb_policy round_robin" in caddyfile and re.search(r"lb_try_duration \d+s", caddyfile)
    assert env["LOTSE_WEBHOOK_URL"].endswith("/${WEBHOOK_PATH:-telegram}") and "handle /{$WEBHOOK_PATH}" in caddyfile
    assert caddy["environment"]["WEBHOOK_PATH"] == "${WEBHOOK_PATH:-telegram}"
    assert re.search(r"^\{\$DOMAIN\} \{", caddyfile, re.MULTILINE)


def test_polling_variant_is_one_process_on_sqlite_on_a_volume() -> None:
    compose = _compose("compose.polling.yaml")
    (bot,) = compose["services"].values()
    assert bot["deploy"]["replicas"] == 1
    assert bot["command"] == ["python", "-m", "bot", "run"]
    volume, _, target = bot["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert bot["environment"]["DATABASE_URL"] == f"sqlite:///{target}/lotse.db"
    assert all(_known(name) for name in bot["environment"])


def test_env_example_names_are_known_settings() -> None:
    text = (ROOT / "deploy" / "compose.env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    compose_only = {"DOMAIN", "WEBHOOK_PATH", "POSTGRES_PASSWORD"}
    assert "TELEGRAM_BOT_TOKEN" in names and compose_only <= names
    assert all(_known(n) for n in names - compose_only), names - compose_only - CONFIG_NAMES


# -- README -------------------------------------------------------------------------------------------------------


def _production_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Running Lotse in production")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end > 0 else None]


def test_readme_operator_section_lists_every_variable_and_topic() -> None:
    section = _production_section()
    missing = sorted(name for name in CONFIG_NAMES if f"`{name}`" not in section)
    assert not missing, f"README 'Running Lotse in production' does not list {missing}"
    for needed in ["compose.yaml", "compose.polling.yaml", "/healthz", "/metrics", "pg_dump", "advisory lock",
                   "python -m bot db upgrade", "--scale", "LOTSE_LOG_FORMAT", "sqlite3"]:  # fmt: skip
        assert needed in section, needed


# -- compiled catalogs --------------------------------------------------------------------------------------------


def _copy_catalog(tmp_path: Path, lang: str) -> Path:
    target = catalog_path(lang, tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copy(catalog_path(lang), target)
    return target


def test_a_compiled_catalog_equals_the_in_memory_one(tmp_path: Path) -> None:
    langs = sorted(p.name for p in (ROOT / "locales").iterdir() if catalog_path(p.name).is_file())
    for lang in langs:
        _copy_catalog(tmp_path / "po", lang)
    shutil.copytree(tmp_path / "po", tmp_path / "mo")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "compile",
            "--domain",
            "messages",
            "--directory",
            str(tmp_path / "mo"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip, the Dockerfile's pybabel compile
    translator.cache_clear()
    for lang in langs:
        assert catalog_path(lang, tmp_path / "mo").with_suffix(".mo").is_file()
        with catalog_path(lang).open("rb") as fh:
            ids = [m.id for m in read_po(fh, locale=lang) if m.id]
        from_mo, from_po = translator(lang, tmp_path / "mo"), translator(lang, tmp_path / "po")
        for msgid in ids:
            if isinstance(msgid, str):
                assert from_mo.gettext(msgid) == from_po.gettext(msgid), (lang, msgid)
            else:
                for n in (1, 2, 5):
                    assert from_mo.ngettext(msgid[0], msgid[1], n) == from_po.ngettext(msgid[0], msgid[1], n)


@pytest.mark.parametrize("stale", [True, False])
def test_a_mo_older_than_its_po_is_not_used(tmp_path: Path, stale: bool) -> None:
    po = _copy_catalog(tmp_path, "de")
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    message = next(m for m in catalog if m.id and isinstance(m.id, str) and m.string)
    fresh_text = message.string
    message.string = "ALTE ÜBERSETZUNG"
    with po.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, catalog)
    po_time = po.stat().st_mtime_ns
    mo_time = po_time - 10**9 if stale else po_time + 10**9
    os.utime(po.with_suffix(".mo"), ns=(mo_time, mo_time))
    translator.cache_clear()
    assert translator("de", tmp_path).gettext(str(message.id)) == (fresh_text if stale else "ALTE ÜBERSETZUNG")
    translator.cache_clear()


def test_the_steps_script_runs_stages_and_copies_between_them(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "note.txt").write_text("hello\n", encoding="utf-8")
    (context / "secret.env").write_text("TOKEN=x\n", encoding="utf-8")
    (context / ".dockerignore").write_text("*.env\n", encoding="utf-8")
    (context / "Dockerfile").write_text(
        "FROM python:3.11-slim AS first\nWORKDIR /app\nCOPY note.txt ./\n"
        "RUN tr a-z A-Z < note.txt > /app/loud.txt && mkdir /data && touch /data/first-only\n"
        "FROM python:3.11-slim\nENV KNOWLEDGE_DIR=/app/k\nCOPY --from=first /app /app\n"
        'RUN test "$(cat /app/loud.txt)" = HELLO && test "$KNOWLEDGE_DIR" = "$PWD/app/k"\n',
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    machine = STEPS.Machine(work, context, sys.executable)
    for stage, previous in STEPS.stages_of(context / "Dockerfile"):
        machine.begin(stage, previous)
        for step in stage.steps:
            machine.execute(step)
    assert (machine.root / "app" / "loud.txt").read_text(encoding="utf-8") == "HELLO\n"
    refused = STEPS.Instruction("COPY", "secret.env /app/", 1)
    with pytest.raises(STEPS.StepError, match="not found in the build context"):
        machine.execute(refused)
    with pytest.raises(STEPS.StepError, match="RUN failed"):
        machine.execute(STEPS.Instruction("RUN", "test -e /data/first-only", 2))  # not copied to the second stage
    machine.execute(STEPS.Instruction("RUN", "test -f /app/note.txt", 3))  # the whole of /app was copied


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed (apt-get install caddy)")
def test_caddy_reads_the_caddyfile() -> None:
    env = {**os.environ, "DOMAIN": "lotse.example.org", "WEBHOOK_PATH": "telegram"}
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = adapted.stdout
    assert '"host":["lotse.example.org"]' in text and '"path":["/telegram"]' in text
    assert '"source":"a"' in text and '"policy":"round_robin"' in text and '"passive":{' in text
