"""Operator settings, read from the environment and from `.env` (pydantic-settings)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from models import crypto
from models.calendar import ReminderWindow, parse_days, parse_hours, public_holidays
from models.orientations import FollowUpPolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'aveq.sqlite3'}"
TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
_PLACEHOLDER_TOKENS = {"changeme", "change-me", "your-token", "<token>", "xxx"}


class Settings(BaseSettings):
    """Everything an operator may set. Built once, in `bot.__main__`; tests build their own."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    timezone: str = "Europe/Paris"
    log_level: str = "INFO"
    conversation_timeout_minutes: float = Field(default=15, gt=0)
    invitation_ttl_days: int = Field(default=7, ge=1, le=90)
    people_page_size: int = Field(default=8, ge=1, le=30)
    followup_delay_days: int = Field(default=7, ge=0, le=90)
    followup_after_appointment_workdays: int = Field(default=2, ge=0, le=30)
    reminder_hours: str = "09:00-18:30"
    reminder_days: str = "mon-fri"
    reminder_sweep_seconds: int = Field(default=300, ge=10, le=3600)
    leader_poll_seconds: int = Field(default=15, ge=1, le=60)
    private_chat_messages_per_second: float = Field(default=1, gt=0, le=1000)
    yearly_target: int = Field(default=800, ge=1)
    digest_cron: str = "0 9 * * mon"
    digest_chat_id: int | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    retention_months: int = Field(default=24, ge=1, le=120)
    audit_retention_months: int = Field(default=12, ge=1, le=120)
    delete_sensitive_messages: bool = True
    data_encryption_key: SecretStr | None = None
    data_encryption_key_file: Path = DEFAULT_DATA_DIR / "encryption.key"
    # Working days: public holidays of this country (`FR`, `FR-57`...); empty: none skipped.
    public_holidays: str = "FR"
    # The database from parts (docker compose): any password, `@:/%` included, with no
    # percent-encoding to get right. When POSTGRES_HOST is set, it wins over DATABASE_URL.
    postgres_host: str | None = None
    postgres_port: int = Field(default=5432, ge=1, le=65535)
    postgres_user: str = "aveq"
    postgres_password: SecretStr | None = None
    postgres_db: str = "aveq"
    # `python -m bot health`: the running bot writes this file after each successful poll (or,
    # with a webhook, each successful check of it); older than this many seconds: unhealthy.
    heartbeat_file: Path = DEFAULT_DATA_DIR / "heartbeat"
    health_max_age_seconds: int = Field(default=180, ge=30, le=3600)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """An empty or placeholder token counts as missing, so `run` can say so clearly."""
        if isinstance(value, str) and value.strip().lower() in {"", *_PLACEHOLDER_TOKENS}:
            return None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """Refuse an unknown IANA zone at start rather than at the first reminder."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        """Accept the standard logging level names only."""
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("reminder_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        """`09:00-18:30`."""
        parse_hours(value)
        return value

    @field_validator("reminder_days")
    @classmethod
    def _valid_days(cls, value: str) -> str:
        """`mon-fri`, `mon-sun`, `mon,wed,fri`."""
        try:
            parse_days(value)
        except ValueError as exc:
            raise ValueError(f"reminder days must look like mon-fri, not {value!r}") from exc
        return value

    @field_validator("public_holidays")
    @classmethod
    def _known_holidays(cls, value: str) -> str:
        """A country (and subdivision) the `holidays` package knows, or empty."""
        public_holidays(value)
        return value.strip()

    @field_validator("data_encryption_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: object) -> object:
        """An empty DATA_ENCRYPTION_KEY means: use the key file."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _blank_webhook_is_none(cls, value: object) -> object:
        """An empty WEBHOOK_URL means polling."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        """Webhook mode only with a real secret: Telegram sends it back on every request."""
        if self.webhook_url is not None:
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if len(secret) < 16 or secret.lower() in _PLACEHOLDER_TOKENS:
                raise ValueError("WEBHOOK_SECRET must be set (16+ characters) with WEBHOOK_URL")
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
                raise ValueError("WEBHOOK_SECRET may use only A-Z, a-z, 0-9, _ and -")
        return self

    @field_validator("postgres_host", mode="before")
    @classmethod
    def _blank_host_is_none(cls, value: object) -> object:
        """An empty POSTGRES_HOST means: use DATABASE_URL."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _database_from_parts(self) -> Settings:
        """With POSTGRES_HOST, the database URL is built from the parts, the password quoted."""
        if self.postgres_host is not None:
            password = (
                self.postgres_password.get_secret_value() if self.postgres_password else None
            )
            url = URL.create(
                "postgresql+asyncpg",
                username=self.postgres_user,
                password=password or None,
                host=self.postgres_host,
                port=self.postgres_port,
                database=self.postgres_db,
            )
            self.database_url = url.render_as_string(hide_password=False)
        return self

    @field_validator("digest_chat_id", mode="before")
    @classmethod
    def _blank_chat_is_none(cls, value: object) -> object:
        """An empty DIGEST_CHAT_ID means: each coordinator privately."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("digest_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        """Five crontab fields, e.g. `0 9 * * mon`."""
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"DIGEST_CRON must be a crontab line, not {value!r}") from exc
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        """PTB appends the token directly to the base URL."""
        return value.rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        """The operator's time zone, used only when talking to people."""
        return ZoneInfo(self.timezone)

    @property
    def invitation_ttl(self) -> dt.timedelta:
        """How long an invitation code stays valid."""
        return dt.timedelta(days=self.invitation_ttl_days)

    @property
    def conversation_timeout(self) -> dt.timedelta:
        """Idle time after which a conversation ends without saving."""
        return dt.timedelta(minutes=self.conversation_timeout_minutes)

    @property
    def reminder_window(self) -> ReminderWindow:
        """When reminders may go out."""
        start, end = parse_hours(self.reminder_hours)
        return ReminderWindow(
            start=start,
            end=end,
            days=parse_days(self.reminder_days),
            tz=self.tz,
            holidays=public_holidays(self.public_holidays),
        )

    @property
    def followup_policy(self) -> FollowUpPolicy:
        """When follow-up checks fall due."""
        return FollowUpPolicy(
            window=self.reminder_window,
            delay_days=self.followup_delay_days,
            after_appointment_workdays=self.followup_after_appointment_workdays,
        )

    @property
    def digest_trigger(self) -> CronTrigger:
        """When the weekly digest is due, in the team's time zone."""
        return CronTrigger.from_crontab(self.digest_cron, timezone=self.tz)

    def encryption_keys(self) -> list[str]:
        """DATA_ENCRYPTION_KEY (comma-separated, newest first), else the key file's keys. A
        missing key file is not created here: `python -m bot` creates one only when the
        database holds nothing encrypted (`bot.__main__.open_keys`)."""
        if self.data_encryption_key is not None:
            raw = self.data_encryption_key.get_secret_value()
            return [k.strip() for k in raw.split(",") if k.strip()]
        return crypto.read_key_file(self.data_encryption_key_file)

    # --- Partners close the loop (issue 16) ---------------------------------------------
    confirmation_ttl_days: int = Field(default=7, ge=1, le=60)
    public_url: str | None = None  # e.g. https://aveq.example.org: serves /c/<code>
    web_listen: str = "0.0.0.0"
    web_port: int = Field(default=8080, ge=1, le=65535)
    smtp_url: SecretStr | None = None  # smtp://user:password@host:587 (STARTTLS), smtps://...
    smtp_from: str | None = None

    @field_validator("public_url", "smtp_from", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty PUBLIC_URL means no web page (nothing listens in polling mode)."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_https(cls, value: str | None) -> str | None:
        """The partners' page is served behind a TLS proxy: the URL they get is https."""
        if value is not None and not re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("PUBLIC_URL must look like https://aveq.example.org")
        return value.rstrip("/") if value else value

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _blank_smtp_is_none(cls, value: object) -> object:
        """An empty SMTP_URL means no e-mail."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def confirmation_ttl(self) -> dt.timedelta:
        """How long a partner's confirmation link stays valid."""
        return dt.timedelta(days=self.confirmation_ttl_days)

    @property
    def sends_email(self) -> bool:
        """E-mail to partners needs a server, a sender, and a web page to link to."""
        return bool(self.smtp_url and self.smtp_from and self.public_url)

    # --- Information notice (issue 17): what its placeholders say, and where its files are.
    operator_name: str = Field(default="AVEQ", min_length=1, max_length=120)
    privacy_contact: str = Field(default="", max_length=200)
    notices_dir: Path | None = None

    @field_validator("notices_dir", mode="before")
    @classmethod
    def _blank_notices_dir_is_default(cls, value: object) -> object:
        """An empty NOTICES_DIR means: the notices shipped with the bot."""
        return None if isinstance(value, str) and not value.strip() else value
