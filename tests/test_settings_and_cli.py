"""Settings names operators rely on, the Compose file's wiring, and the CLI's first words."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from bot.settings import DEFAULT_DATABASE_URL, Settings
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "TIMEZONE", "LOG_LEVEL"))
    }
    env.update(values)
    env["DATA_ENCRYPTION_KEY"] = TEST_KEY
    return env


def test_settings_read_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:abc")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/aveq")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://localhost:8081/bot/")
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "42:abc"
    assert "42:abc" not in repr(settings)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.telegram_api_base_url == "http://localhost:8081/bot"
    assert settings.log_level == "DEBUG"


def test_defaults_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_bot_token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.endswith("/data/aveq.sqlite3")
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert Settings(_env_file=None, telegram_bot_token="changeme").telegram_bot_token is None  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, timezone="Mars/Olympus")  # type: ignore[call-arg]


def test_run_without_token_says_where_to_put_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env here
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert ".env" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_an_unknown_neighbourhood(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "invite", "--role", "mediator", "--name", "Samia",
         "--quartier", "atlantide"],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Quartier inconnu : atlantide" in result.stderr
    assert "la-chapelle-nord" in result.stderr


def test_compose_wires_the_bot_to_a_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert bot["env_file"][0]["path"] == ".env"
    # The settings Compose passes, once interpolated, point at db with the password as typed,
    # whatever it holds (`@:/%` broke the URL Compose used to build).
    password = "p@ss:w/rd%40?#x"
    env = {
        k.lower(): re.sub(r"\$\{POSTGRES_PASSWORD(:\?[^}]*)?\}", password, str(v))
        for k, v in bot["environment"].items()
        if k.startswith("POSTGRES_")
    }
    assert env["postgres_password"] == password
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token="1:x",
        database_url="sqlite+aiosqlite:///from-an-old-env-file.sqlite3",  # the parts win
        **env,
    )
    url = make_url(settings.database_url)
    assert (url.drivername, url.host, url.port) == ("postgresql+asyncpg", "db", 5432)
    assert url.password == password
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.database == db["environment"]["POSTGRES_DB"]
    tz = re.sub(r"\$\{TIMEZONE:-(.*)\}", r"\1", bot["environment"]["TIMEZONE"])
    assert Settings(_env_file=None, timezone=tz).timezone == "Europe/Paris"  # type: ignore[call-arg]


@pytest.mark.parametrize("document", [".env.example", "README.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert name.upper() in text, name
