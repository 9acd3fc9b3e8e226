"""Encryption at rest for the few free-text and contact fields (phones, notes): Fernet.

The keys are configured once at start (`configure`), newest first; older keys still decrypt,
so a key can be rotated without downtime (`rotate`). A column declared `EncryptedText` is
stored as a Fernet token and read back as text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, cast, literal, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel


class KeyMissing(RuntimeError):
    """No encryption key was configured before the database was used."""


class _Keys:
    """The process's keys (set once at start, like logging)."""

    cipher: MultiFernet | None = None


def configure(keys: Sequence[str | bytes]) -> None:
    """Use these keys, newest first."""
    if not keys:
        raise KeyMissing("no data encryption key")
    _Keys.cipher = MultiFernet([Fernet(k) for k in keys])


def cipher() -> MultiFernet:
    """The configured cipher."""
    if _Keys.cipher is None:
        raise KeyMissing("configure a data encryption key before using the database")
    return _Keys.cipher


def new_key() -> str:
    """A fresh Fernet key."""
    return Fernet.generate_key().decode()


def load_or_create_key_file(path: Path) -> list[str]:
    """The keys in `path` (one per line, newest first); a new key, 0600, if there is no file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(new_key() + "\n")
    return read_key_file(path)


def read_key_file(path: Path) -> list[str]:
    """Read a key file, refusing one that others can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{path} must be readable by its owner only (chmod 600)")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file atomically, owner-only."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(keys) + "\n")
    temporary.replace(path)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the configured Fernet keys."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        """Encrypt on the way in."""
        if value is None:
            return None
        return cipher().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Decrypt on the way out."""
        if value is None:
            return None
        try:
            return cipher().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise KeyMissing("this value was encrypted with a key that is not configured") from exc


async def reencrypt_all(*, session: AsyncSession, rotating: MultiFernet) -> int:
    """Re-encrypt every stored token with `rotating`'s newest key. Returns values rewritten."""
    rewritten = 0
    conn = await session.connection()
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        for column in columns:
            raw = cast(column, Text)
            rows = (await conn.execute(select(table.c.id, raw).where(column.is_not(None)))).all()
            for row_id, token in rows:
                fresh = rotating.rotate(token.encode()).decode()
                await conn.execute(
                    update(table)
                    .where(table.c.id == row_id)
                    .values({column.name: literal(fresh, type_=Text)})
                )
                rewritten += 1
    return rewritten
