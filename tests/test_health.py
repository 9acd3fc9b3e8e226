"""`python -m bot health`, the check Docker Compose runs: the database answers and the running
bot polled Telegram (or had its webhook confirmed) recently; and what the image and its
dependencies are built from."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version
from sqlalchemy.engine import make_url
from telegram.error import NetworkError

from bot import health, texts
from bot.app import BotApplication
from bot.settings import Settings
from tests.conftest import TEST_KEY, TOKEN
from tests.fakes import FakeBotAPI, FakeBotServer
from tests.test_end_to_end import ROOT, bot_env, server, start_bot  # noqa: F401 (fixture)

NOW = dt.datetime(2026, 3, 17, 10, 0, tzinfo=dt.UTC)


def health_settings(tmp_path: Path, **values: object) -> Settings:
    values = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        "heartbeat_file": tmp_path / "heartbeat",
        **values,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]


async def test_healthy_only_with_a_recent_heartbeat_and_a_database(tmp_path: Path) -> None:
    settings = health_settings(tmp_path)
    healthy, sentence = await health.check(settings, NOW)
    assert not healthy
    assert sentence.startswith("Bot en mauvaise santé : aucun échange réussi avec Telegram")
    health.Heartbeat(settings.heartbeat_file).beat(NOW - dt.timedelta(seconds=42))
    assert await health.check(settings, NOW) == (True, texts.HEALTH_OK.format(seconds=42))
    later = NOW + dt.timedelta(seconds=settings.health_max_age_seconds)
    healthy, sentence = await health.check(settings, later)
    assert not healthy
    assert "depuis 222 s (limite : 180 s)" in sentence
    # The database is gone (a server nobody listens to): unhealthy, whatever the heartbeat.
    down = health_settings(tmp_path, database_url="postgresql+asyncpg://x:y@127.0.0.1:9/none")
    healthy, sentence = await health.check(down, NOW)
    assert not healthy
    assert sentence.startswith("Bot en mauvaise santé : base de données injoignable (")


async def test_a_successful_poll_beats_and_a_failed_one_does_not(
    app: BotApplication, api: FakeBotAPI, settings: Settings
) -> None:
    assert not settings.heartbeat_file.exists()
    api.down = True
    with pytest.raises(NetworkError):
        await app.bot.get_updates(timeout=0)
    assert not settings.heartbeat_file.exists()
    api.down = False
    await app.bot.get_updates(timeout=0)
    healthy, _ = await health.check(settings)
    assert healthy
    assert not (settings.heartbeat_file.parent / "heartbeat.tmp").exists()


async def test_a_webhook_beats_while_telegram_delivers_to_it(
    app: BotApplication, api: FakeBotAPI, settings: Settings
) -> None:
    job = health.webhook_job(health.Heartbeat(settings.heartbeat_file))
    context = SimpleNamespace(bot=app.bot)
    await job(context)  # no webhook set: nothing proves updates arrive
    assert not settings.heartbeat_file.exists()
    failing = {
        "url": "https://bot.example.org/telegram",
        "has_custom_certificate": False,
        "pending_update_count": 12,
        "last_error_date": int(time.time()) - 30,
        "last_error_message": "Connection refused",
    }
    api.faults["getWebhookInfo"] = [(200, {"ok": True, "result": failing})]
    await job(context)  # Telegram holds updates it fails to deliver
    assert not settings.heartbeat_file.exists()
    await app.bot.set_webhook("https://bot.example.org/telegram")
    await job(context)
    assert (await health.check(settings))[0]


async def test_the_running_bot_is_healthy_and_then_not(
    server: FakeBotServer,  # noqa: F811
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    """The real process polling the fake Telegram over HTTP, checked by the real command."""
    env = bot_env(server, empty_database_url)
    env["HEARTBEAT_FILE"] = str(tmp_path / "heartbeat")

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "health"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    before = check()
    assert before.returncode == 1
    assert "aucun échange réussi avec Telegram" in before.stderr
    bot = await start_bot(env, tmp_path / "bot.log", server)
    try:
        # A message ends the pending long poll; the bot's next poll comes after its answer
        # was received, so after the heartbeat.
        polls = len(server.api.method_calls("getUpdates"))
        await server.push(
            {
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "text": "bonjour",
                    "chat": {"id": 9001, "type": "private"},
                    "from": {"id": 9001, "is_bot": False, "first_name": "X"},
                }
            }
        )
        await server.wait_for(lambda api: len(api.method_calls("getUpdates")) > polls)
        running = check()
        assert running.returncode == 0, running.stderr
        assert running.stdout.startswith("Bot en bonne santé : base de données joignable")
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
    env["HEALTH_MAX_AGE_SECONDS"] = "30"
    env["DATABASE_URL"] = "postgresql+asyncpg://x:y@127.0.0.1:9/none"
    stopped = check()
    assert stopped.returncode == 1
    assert "base de données injoignable" in stopped.stderr
    assert "Traceback" not in stopped.stderr


def test_compose_checks_the_bot_and_docker_ignores_what_must_not_ship() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    check = compose["services"]["bot"]["healthcheck"]
    assert check["test"] == ["CMD", "python", "-m", "bot", "health"]
    for key in ("interval", "timeout", "start_period"):
        assert re.fullmatch(r"\d+s", check[key]), key
    assert "DATABASE_URL" not in compose["services"]["bot"]["environment"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "data", ".env"} <= set(ignored)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir --require-hashes -r requirements-docker.txt" in dockerfile
    assert "pip install --no-cache-dir --no-deps ." in dockerfile
    assert "DATA_ENCRYPTION_KEY_FILE=/app/data/" in dockerfile  # in the volume, not site-packages


def _pins(name: str) -> dict[str, list[Version]]:
    """Package → pinned versions (one per environment marker) of a lock file; every pin has
    its hashes."""
    text = (ROOT / name).read_text(encoding="utf-8")
    pins: dict[str, list[Version]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2]):
        requirement = block.split(" \\")[0].strip()
        if not requirement or requirement.startswith("#"):
            continue
        assert "--hash=sha256:" in block, requirement
        package, _, rest = requirement.partition("==")
        pins.setdefault(package.lower(), []).append(Version(rest.split(";")[0].strip()))
    return pins


def test_the_locks_pin_everything_within_the_declared_ranges() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    lock, docker = _pins("requirements-lock.txt"), _pins("requirements-docker.txt")
    for requirement in declared:
        name = requirement.name.lower()
        assert name in lock, f"{name} is not in requirements-lock.txt: run make lock"
        assert all(requirement.specifier.contains(v) for v in lock[name]), name
    for name, versions in docker.items():  # the image: the same versions, a subset
        assert versions == lock[name], name
    # The code imports what only SQLAlchemy 2.1 has; the private internals it relies on are
    # bounded to the series tested.
    ranges = {r.name.lower(): r.specifier for r in declared}
    assert not ranges["sqlalchemy"].contains("2.0.36")
    assert ranges["sqlalchemy"].contains("2.1.0")
    assert not ranges["python-telegram-bot"].contains("22.3")  # polling fails to start
    for name, untested in (
        ("sqlalchemy", "2.2.0"),
        ("aiosqlite", "0.23.0"),
        ("python-telegram-bot", "23.0"),
        ("holidays", "1.0"),
    ):
        assert not ranges[name].contains(untested), name
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile


def test_the_health_command_needs_no_token_nor_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        HEARTBEAT_FILE=str(tmp_path / "heartbeat"),
        DATA_ENCRYPTION_KEY_FILE=str(tmp_path / "no" / "key"),
        PYTHONPATH=str(ROOT),
    )
    health.Heartbeat(tmp_path / "heartbeat").beat()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "no").exists()  # no key file made by a health check
    assert TOKEN not in done.stdout
    assert TEST_KEY not in done.stdout


async def test_the_database_in_parts_connects_whatever_the_password(
    postgres_url: str | None, tmp_path: Path
) -> None:
    if postgres_url is None:
        pytest.skip("the database in parts is a PostgreSQL matter")
    url = make_url(postgres_url)
    password = url.password or "p@ss:w/rd%40?#"  # this server trusts 127.0.0.1
    settings = health_settings(
        tmp_path,
        postgres_host=url.host,
        postgres_port=url.port or 5432,
        postgres_user=url.username,
        postgres_password=password,
        postgres_db=url.database,
    )
    assert make_url(settings.database_url).password == password
    assert await health.database_reachable(settings) is None
