#!/usr/bin/env python3
"""Run the Dockerfile's own commands outside a container, where no image can be built (``.ci/run`` does).

Every instruction of every stage is read from the Dockerfile and carried out as Docker would, with the image's
directories mapped into a temporary root (``MAPPED``): ``COPY`` copies from the build context (``.dockerignore``
applied) or from an earlier stage, ``ENV``/``WORKDIR``/``USER`` set what the following commands get, and every
``RUN`` is executed exactly as written, only with its image paths mapped (``useradd`` and ``groupadd`` get
``--prefix``: the image's ``/etc`` is the root's). Commands after ``USER`` run as that user's uid and gid
(``setpriv``; needs root, as on CI), so the steps that need to write run as the non-root user the image has.
Then the image is used as a container would be: the ``HEALTHCHECK`` command must say "unhealthy" while nothing
runs, and the ``CMD`` must start without training the matcher, create the SQLite database on the data volume and
answer on /healthz until it is stopped.

    python3 scripts/dockerfile_steps.py [--dockerfile Dockerfile] [--keep]

Standard library only; the stage's ``python`` is a Python of the base image's version that the non-root user can run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
# Every directory of the image a command names; anything else absolute in a RUN must be one of HOST_PATHS.
MAPPED = ("/app", "/opt/venv", "/data", "/var/cache/lotse", "/etc")
HOST_PATHS = ("/dev/null", "/usr/sbin/nologin", "/nonexistent")
ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow", "login.defs", "default/useradd")
# Settings of the machine that must not leak into the "image" (the image has its own, or none).
HOST_ONLY = re.compile(r"^(VIRTUAL_ENV|PYTHONPATH|PYTHONHOME|DATABASE_URL|KNOWLEDGE_DIR|TELEGRAM_.*|LOTSE_.*)$")


class StepError(Exception):
    """An instruction failed or cannot be carried out outside a container."""


@dataclass
class Instruction:
    keyword: str
    text: str
    line: int


@dataclass
class Stage:
    name: str
    base: str
    steps: list[Instruction] = field(default_factory=list)


def parse(dockerfile: str) -> list[Stage]:
    """The stages of a Dockerfile with their instructions (continuation lines joined, comments dropped)."""
    stages: list[Stage] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(dockerfile.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as Docker does
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, rest = " ".join(p for p in pending if p).partition(" ")
        pending = []
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, words[0]))
        elif not stages:
            if keyword != "ARG":
                raise StepError(f"line {start}: {keyword} before FROM")
        else:
            stages[-1].steps.append(Instruction(keyword, rest.strip(), start))
    if pending:
        raise StepError("the Dockerfile ends inside a continued line")
    return stages


def flags(text: str) -> tuple[dict[str, str], str]:
    """``--name=value`` options at the start of an instruction, and the rest."""
    found: dict[str, str] = {}
    while text.startswith("--"):
        option, _, text = text.partition(" ")
        name, _, value = option[2:].partition("=")
        found[name] = value
        text = text.lstrip()
    return found, text


_BEFORE = r"(?:^|(?<=[\s\"'=:,\[])|(?<=:///))"
_AFTER = r"(?=$|[/\s\"':;,\]])"
_ABSOLUTE = re.compile(_BEFORE + r"(/[\w.+-]+)+")


def map_paths(text: str, root: Path) -> str:
    """``text`` with every image path (``MAPPED``) moved under ``root``."""
    prefixes = "|".join(re.escape(p) for p in sorted(MAPPED, key=len, reverse=True))
    return re.sub(_BEFORE + f"({prefixes})" + _AFTER, lambda m: str(root) + m.group(1), text)


def unknown_paths(command: str) -> list[str]:
    """Absolute paths in a RUN command that are neither image directories nor known host paths."""
    found = []
    for match in _ABSOLUTE.finditer(command):
        path = match.group(0)
        if any(path == p or path.startswith(p + "/") for p in (*MAPPED, *HOST_PATHS)):
            continue
        found.append(path)
    return found


def expand(value: str, env: Mapping[str, str]) -> str:
    """Docker's ``$NAME`` / ``${NAME}`` substitution in ENV values."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a context path is excluded by ``.dockerignore``: a pattern matches the path or one of its folders,
    ``*`` and ``?`` within one name, ``**`` any number of folders; the last matching pattern wins, ``!`` re-includes.
    """
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip().strip("/"))
        if any(regex.fullmatch(p) for p in prefixes):
            result = not negate
    return result


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            char = pattern[i]
            out.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
            i += 1
    return re.compile("".join(out))


def read_ignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def base_python(base: str) -> str:
    """A Python of the base image's version (``python:3.11-slim``) that every user may run."""
    found = re.match(r"python:(\d+\.\d+)", base)
    version = found.group(1) if found else f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [f"/usr/local/bin/python{version}", f"/usr/bin/python{version}", shutil.which(f"python{version}")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _world_usable(Path(candidate).resolve()):
            return candidate
    raise StepError(f"no python{version} that a non-root user may run (the base image is {base})")


def _world_usable(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o001)


@dataclass
class Machine:
    """The state of the stage being built: its root, environment, working directory and user."""

    work: Path
    context: Path
    python: str
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    done: dict[str, Path] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.work / "root"

    def path(self, image_path: str) -> Path:
        absolute = os.path.normpath(image_path if image_path.startswith("/") else f"{self.workdir}/{image_path}")
        if absolute == "/":
            return self.root
        if not any(absolute == p or absolute.startswith(p + "/") for p in MAPPED):
            raise StepError(f"{absolute}: an image directory missing from MAPPED")
        return self.root / absolute.lstrip("/")

    def begin(self, stage: Stage, previous: Stage | None) -> None:
        if previous is not None and stage.base == previous.name:
            return  # built on the stage before: same root
        if previous is not None:
            kept = self.work / "stages" / previous.name
            kept.parent.mkdir(exist_ok=True)
            self.root.rename(kept)
            self.done[previous.name] = kept
        (self.root / "etc" / "default").mkdir(parents=True)
        for name in ACCOUNT_FILES:  # the base image's accounts
            if Path("/etc", name).is_file():
                shutil.copy2(Path("/etc", name), self.root / "etc" / name)
        shims = self.work / "bin"
        shims.mkdir(exist_ok=True)
        for name in ("python", "python3"):
            (shims / name).unlink(missing_ok=True)
            (shims / name).symlink_to(self.python)
        host = {k: v for k, v in os.environ.items() if not HOST_ONLY.match(k)}
        host["PATH"] = f"{shims}:{host.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"
        self.env, self.workdir, self.user = host, "/", "root"

    def uid_gid(self) -> tuple[int, int]:
        if self.user.split(":")[0].isdecimal():
            uid, _, gid = self.user.partition(":")
            return int(uid), int(gid or uid)
        for line in (self.root / "etc" / "passwd").read_text(encoding="utf-8").splitlines():
            fields_ = line.split(":")
            if fields_[0] == self.user:
                return int(fields_[2]), int(fields_[3])
        raise StepError(f"USER {self.user}: no such user in the image's /etc/passwd")

    def command(self, argv: list[str]) -> list[str]:
        if self.user == "root":
            return argv
        if os.geteuid() != 0:
            raise StepError(f"USER {self.user}: switching users needs root (CI runs as root)")
        uid, gid = self.uid_gid()
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]

    def run_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.user != "root":
            env["HOME"] = "/nonexistent"
            env.pop("PIP_CACHE_DIR", None)
        return env

    def execute(self, step: Instruction) -> None:
        handler = getattr(self, "do_" + step.keyword.lower(), None)
        if handler is None:
            raise StepError(f"line {step.line}: {step.keyword} is not supported outside a container")
        handler(step)

    def do_env(self, step: Instruction) -> None:
        for word in shlex.split(step.text):
            name, _, value = word.partition("=")
            self.env[name] = map_paths(expand(value, self.env), self.root)

    def do_arg(self, step: Instruction) -> None:
        name, _, value = step.text.partition("=")
        self.env.setdefault(name, value)

    def do_workdir(self, step: Instruction) -> None:
        self.workdir = step.text if step.text.startswith("/") else f"{self.workdir.rstrip('/')}/{step.text}"
        self.path(self.workdir).mkdir(parents=True, exist_ok=True)

    def do_user(self, step: Instruction) -> None:
        self.user = step.text

    def do_copy(self, step: Instruction) -> None:
        options, rest = flags(step.text)
        if set(options) - {"from"}:
            raise StepError(f"line {step.line}: COPY {', '.join(sorted(options))}: only --from is mapped")
        *sources, dest = shlex.split(rest)
        if "from" in options and options["from"] not in self.done:
            raise StepError(f"line {step.line}: no earlier stage {options['from']}")
        origin = self.done[options["from"]] if "from" in options else self.context
        patterns = [] if "from" in options else read_ignore(self.context)
        into_dir = len(sources) > 1 or dest.endswith("/")
        target = self.path(dest)
        for source in sources:
            src = origin / source.lstrip("/")
            relative = src.relative_to(origin).as_posix()
            if not (src.exists() or src.is_symlink()) or (patterns and ignored(relative, patterns)):
                raise StepError(f"line {step.line}: COPY {source}: not found in the build context")
            if src.is_dir():
                _copy_tree(src, target, relative, patterns)
            else:
                goal = target / src.name if into_dir or target.is_dir() else target
                goal.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, goal, follow_symlinks=False)

    def do_run(self, step: Instruction) -> None:
        _, command = flags(step.text)
        if command.startswith("["):
            raise StepError(f"line {step.line}: use the shell form of RUN")
        strangers = unknown_paths(command)
        if strangers:
            raise StepError(f"line {step.line}: {', '.join(strangers)}: add to MAPPED or HOST_PATHS")
        mapped = map_paths(command, self.root)
        mapped = re.sub(r"\b(useradd|groupadd)\b", rf"\1 --prefix {self.root}", mapped)
        print(f"RUN (line {step.line}, as {self.user}): {command}", flush=True)
        cwd = self.path(self.workdir)
        argv = self.command(["bash", "-euo", "pipefail", "-c", mapped])
        if subprocess.run(argv, cwd=cwd, env=self.run_env(), check=False).returncode != 0:
            raise StepError(f"line {step.line}: RUN failed: {command}")

    def do_volume(self, step: Instruction) -> None:
        for name in json.loads(step.text) if step.text.startswith("[") else step.text.split():
            self.path(name).mkdir(parents=True, exist_ok=True)

    def do_expose(self, step: Instruction) -> None:
        pass

    def do_healthcheck(self, step: Instruction) -> None:
        pass  # run by use(): it needs the finished image

    def do_cmd(self, step: Instruction) -> None:
        pass


def _copy_tree(src: Path, target: Path, relative: str, patterns: list[str]) -> None:
    for path in sorted(src.rglob("*")):
        inner = path.relative_to(src).as_posix()
        context_path = f"{relative}/{inner}" if relative not in ("", ".") else inner
        if patterns and ignored(context_path, patterns):
            continue
        goal = target / inner
        if path.is_symlink() or path.is_file():
            goal.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, goal, follow_symlinks=False)
        elif path.is_dir():
            goal.mkdir(parents=True, exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)


def exec_form(stage: Stage, keyword: str) -> list[str]:
    for step in reversed(stage.steps):
        if step.keyword == keyword:
            _, text = flags(step.text)
            text = text.removeprefix("CMD").strip() if keyword == "HEALTHCHECK" else text
            argv = json.loads(text)
            if not isinstance(argv, list):
                raise StepError(f"line {step.line}: {keyword} must be in exec form")
            return [str(a) for a in argv]
    raise StepError(f"the last stage has no {keyword}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use(machine: Machine, stage: Stage) -> None:
    """Use the built "image" as a container would: HEALTHCHECK with nothing running, then CMD, then HEALTHCHECK."""
    health, cmd = exec_form(stage, "HEALTHCHECK"), exec_form(stage, "CMD")
    cwd = machine.path(machine.workdir)
    port = free_port()
    env = {**machine.run_env(), "LOTSE_HTTP_PORT": str(port)}
    checked = subprocess.run(machine.command(health), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    print(f"HEALTHCHECK with nothing running: exit {checked.returncode}: {checked.stdout.strip()}", flush=True)
    if checked.returncode == 0 or not checked.stdout.startswith("unhealthy"):
        raise StepError("HEALTHCHECK did not report 'unhealthy' while nothing runs")
    # CMD with a well-formed token and a Bot API nobody answers: it must come up from the cache, migrate the
    # database on the volume and serve /healthz while it retries Telegram.
    env |= {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(machine.command(cmd), cwd=cwd, env=env, stdout=log, stderr=log, text=True)
        try:
            status = _wait_for_health(port, process, deadline=time.monotonic() + 60)
            running = subprocess.run(
                machine.command(health), cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            output = log.read()
    print(f"CMD {' '.join(cmd)}: /healthz answered {status}; database {database.name} exists: {database.is_file()}")
    if "Learning the knowledge" in output:
        raise StepError("the container start trained the matcher: the build did not warm the cache\n" + output)
    if status is None or not database.is_file():
        raise StepError("CMD did not come up (no /healthz answer or no database on the volume):\n" + output[-3000:])
    print(f"HEALTHCHECK while CMD runs: exit {running.returncode}: {running.stdout.strip()[:200]}", flush=True)
    if not running.stdout.startswith(("healthy", f"unhealthy ({status})")):
        raise StepError("HEALTHCHECK did not reach the running bot's /healthz")


def _wait_for_health(port: int, process: subprocess.Popen[str], deadline: float) -> int | None:
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            time.sleep(0.2)
    return None


def stages_of(dockerfile: Path) -> Iterator[tuple[Stage, Stage | None]]:
    previous = None
    for stage in parse(dockerfile.read_text(encoding="utf-8")):
        yield stage, previous
        previous = stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dockerfile", default=str(ROOT_DIR / "Dockerfile"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary root (its path is printed)")
    args = parser.parse_args(argv)
    dockerfile = Path(args.dockerfile)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="lotse-image-"))
    work.chmod(0o755)  # the non-root user must reach its files
    last: Stage | None = None
    try:
        stages = list(stages_of(dockerfile))
        machine = Machine(work, dockerfile.parent, base_python(stages[-1][0].base))
        for stage, previous in stages:
            print(f"== stage {stage.name} (FROM {stage.base}; python: {machine.python})", flush=True)
            machine.begin(stage, previous)
            for step in stage.steps:
                machine.execute(step)
            last = stage
        assert last is not None
        use(machine, last)
    except StepError as exc:
        print(f"dockerfile_steps: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"dockerfile_steps: every step of {dockerfile.name} ran outside a container in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
