"""Encryption at rest for the few free-text and contact fields (phones, notes): Fernet.

The keys are configured once at start (`configure`, or `configure_from_file`), newest first;
older keys still decrypt. A column declared `EncryptedText` is stored as a Fernet token and
read back as text.

Rotation while the bot runs (`python -m bot rotate-key`): the command writes the new key in
front of the old ones in the key file before it changes any value. A process configured from
that file looks at it before every encryption (one `stat`) and, at most once a second, before
decryptions, and at once when a token does not decrypt: it reloads the file when it changed.
So every value written after the new file is on disk uses the new key, and a value the
command has already re-encrypted reads everywhere. The old key stays in the file until the
next rotation: a transaction that encrypted with it just before the file changed may commit
after the command's pass (see `bot.__main__.rotate_key`).

The probe (`PROBE_SETTING`): a known value encrypted with the newest key, stored in the
database. At start, when no configured key decrypts it, the bot refuses to start rather than
write with a key that cannot read what is stored.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Table, Text, bindparam, cast, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import deferred
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

logger = logging.getLogger(__name__)

PROBE_SETTING = "encryption_probe"
PROBE_TEXT = "aveq-probe"
# How often, at most, decryption looks at the key file for a newer key (a failed decryption
# looks at once; encryption looks every time).
RELOAD_SECONDS = 1.0


class KeyMissing(RuntimeError):
    """No encryption key was configured before the database was used."""


class KeyFileUnusable(ValueError):
    """The key file is empty or holds something that is not a Fernet key."""


@dataclass(frozen=True, slots=True)
class _FileSignature:
    inode: int
    modified_ns: int
    size: int


def _signature(path: Path) -> _FileSignature | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return _FileSignature(found.st_ino, found.st_mtime_ns, found.st_size)


class _Keys:
    """The process's keys (set once at start, like logging), and the file they came from."""

    cipher: MultiFernet | None = None
    known: list[str] = []  # noqa: RUF012 - the file's keys, then any it no longer lists
    file: Path | None = None
    signature: _FileSignature | None = None
    looked_at: float = 0.0


def _cipher_of(keys: Sequence[str | bytes]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def configure(keys: Sequence[str | bytes]) -> None:
    """Use these keys, newest first (from the environment: never reloaded)."""
    if not keys:
        raise KeyMissing("no data encryption key")
    _Keys.cipher = _cipher_of(keys)
    _Keys.known = [k.decode() if isinstance(k, bytes) else k for k in keys]
    _Keys.file, _Keys.signature = None, None


def configure_from_file(path: Path) -> list[str]:
    """Use the keys of this key file, and follow its changes (a rotation)."""
    signature = _signature(path)
    keys = read_key_file(path)
    configure(keys)
    _Keys.file, _Keys.signature, _Keys.looked_at = path, signature, time.monotonic()
    return keys


def _reload(*, force: bool) -> bool:
    """Reread the key file if it changed; True when the keys changed. The file's newest key
    encrypts from then on; the keys it no longer lists still decrypt in this process (a bot
    idle through two rotations may have written with one of them). A file gone or unusable
    keeps the keys in use (the next start says what is wrong)."""
    path = _Keys.file
    if path is None:
        return False
    now = time.monotonic()
    if not force and now - _Keys.looked_at < RELOAD_SECONDS:
        return False
    _Keys.looked_at = now
    signature = _signature(path)
    if signature is None or signature == _Keys.signature:
        return False
    try:
        keys = read_key_file(path)
    except (OSError, ValueError):
        return False
    if not set(keys) & set(_Keys.known):
        logger.warning(
            "The key file changed to keys this process never had (two rotations, or a "
            "different file?): the earlier keys still decrypt here"
        )
    _Keys.known = [*keys, *(k for k in _Keys.known if k not in keys)]
    _Keys.cipher, _Keys.signature = _cipher_of(_Keys.known), signature
    return True


def cipher() -> MultiFernet:
    """The configured cipher."""
    if _Keys.cipher is None:
        raise KeyMissing("configure a data encryption key before using the database")
    return _Keys.cipher


def encrypt(value: str) -> str:
    """A token of `value` under the newest key (the key file looked at first)."""
    _reload(force=True)
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The text of `token`; a token no key decrypts makes the key file be read again once."""
    _reload(force=False)
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        if not _reload(force=True):
            raise
    return cipher().decrypt(token.encode()).decode()


def new_key() -> str:
    """A fresh Fernet key."""
    return Fernet.generate_key().decode()


def load_or_create_key_file(path: Path) -> list[str]:
    """The keys in `path` (one per line, newest first); a new key, 0600, if there is no file."""
    if not path.exists():
        create_key_file(path)
    return read_key_file(path)


def create_key_file(path: Path) -> list[str]:
    """A new key file holding one new key, owner-only (its folder too, when created)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return [key]


def read_key_file(path: Path) -> list[str]:
    """Read a key file, refusing one that others can read, an empty one, or one holding
    anything but Fernet keys."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{path} must be readable by its owner only (chmod 600)")
    keys = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    keys = [k for k in keys if k]
    if not keys:
        raise KeyFileUnusable(f"{path} is empty")
    try:
        _cipher_of(keys)
    except ValueError as exc:
        raise KeyFileUnusable(f"{path} holds something that is not a key") from exc
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file atomically, owner-only."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the configured Fernet keys."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        """Encrypt on the way in."""
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Decrypt on the way out."""
        if value is None:
            return None
        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise KeyMissing("this value was encrypted with a key that is not configured") from exc


def private_column(name: str) -> Column[str]:
    """A nullable encrypted column, for `loaded_only_when_asked`."""
    return Column(name, EncryptedText, nullable=True)


def loaded_only_when_asked(*columns: Column[str]) -> dict[str, Any]:
    """A model's `__mapper_args__` deferring these columns: a query loads them only with
    `undefer(...)` (reading them otherwise raises), so lists and pickers never decrypt, and one
    value no key decrypts breaks only the screen that shows it."""
    return {"properties": {c.name: deferred(c, raiseload=True) for c in columns}}


# --- What is stored: the probe, the encrypted columns -------------------------------------
def _encrypted_columns() -> list[tuple[Table, str]]:
    return [
        (table, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def _settings_table() -> Table:
    return SQLModel.metadata.tables["app_setting"]


async def read_probe(*, connection: AsyncConnection) -> str | None:
    """The stored probe token, if any."""
    table = _settings_table()
    return (
        await connection.execute(select(table.c.value).where(table.c.key == PROBE_SETTING))
    ).scalar_one_or_none()


async def write_probe(*, connection: AsyncConnection, token: str | None = None) -> None:
    """Store the probe: encrypted with the newest key, unless a token is given; several
    processes starting at once on a new database store one."""
    table = _settings_table()
    value = token or cipher().encrypt(PROBE_TEXT.encode()).decode()
    changed = await connection.execute(
        update(table).where(table.c.key == PROBE_SETTING).values(value=value)
    )
    if changed.rowcount:
        return
    dialect = connection.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await connection.execute(
        insert(table).values(key=PROBE_SETTING, value=value).on_conflict_do_nothing()
    )


def decrypts(keys: MultiFernet | Fernet, token: str) -> bool:
    """Whether `token` decrypts with `keys`."""
    try:
        keys.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


async def stored_samples(*, connection: AsyncConnection, per_column: int = 5) -> list[str]:
    """A few stored tokens of every encrypted column (the newest rows first)."""
    samples: list[str] = []
    for table, name in _encrypted_columns():
        column = table.c[name]
        rows = await connection.execute(
            select(cast(column, Text))
            .where(column.is_not(None))
            .order_by(table.c.id.desc())
            .limit(per_column)
        )
        samples.extend(token for (token,) in rows)
    return samples


async def holds_encrypted_values(*, connection: AsyncConnection) -> bool:
    """Whether the database holds a probe or any encrypted value."""
    if await read_probe(connection=connection) is not None:
        return True
    for table, name in _encrypted_columns():
        column = table.c[name]
        found = await connection.execute(select(table.c.id).where(column.is_not(None)).limit(1))
        if found.first() is not None:
            return True
    return False


async def keys_read_the_database(*, connection: AsyncConnection, keys: MultiFernet) -> bool:
    """The start check: the probe decrypts with `keys` (without a probe, a stored value does,
    or nothing is stored)."""
    probe = await read_probe(connection=connection)
    if probe is not None:
        return decrypts(keys, probe)
    samples = await stored_samples(connection=connection)
    return not samples or any(decrypts(keys, token) for token in samples)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a re-encryption did: values rewritten, and values no key decrypts (left as
    they were)."""

    rewritten: int = 0
    unreadable: int = 0

    def __add__(self, other: Rotation) -> Rotation:
        return Rotation(self.rewritten + other.rewritten, self.unreadable + other.unreadable)


async def _rotate_rows(
    connection: AsyncConnection,
    rotating: MultiFernet,
    table: Table,
    name: str,
    *,
    after: int = 0,
    limit: int | None = None,
) -> tuple[Rotation, int | None]:
    """Re-encrypt the tokens of one column, by id from `after`; returns what was done and the
    last id seen (None: nothing left). Each row is rewritten only if it still holds the token
    read, so a value the running bot writes meanwhile is never overwritten."""
    column = table.c[name]
    raw = cast(column, Text)
    query = select(table.c.id, raw).where(column.is_not(None), table.c.id > after)
    rows = (await connection.execute(query.order_by(table.c.id).limit(limit))).all()
    changes, unreadable = [], 0
    for row_id, token in rows:
        try:
            fresh = rotating.rotate(token.encode()).decode()
        except InvalidToken:
            unreadable += 1
            continue
        changes.append({"row_id": row_id, "old_token": token, "new_token": fresh})
    if changes:
        await connection.execute(
            update(table)
            .where(
                table.c.id == bindparam("row_id"),
                raw == bindparam("old_token", type_=Text),
            )
            .values({name: bindparam("new_token", type_=Text)}),
            changes,
        )
    done = Rotation(rewritten=len(changes), unreadable=unreadable)
    return done, (rows[-1][0] if rows else None)


async def _rotate_probe(connection: AsyncConnection, rotating: MultiFernet) -> None:
    probe = await read_probe(connection=connection)
    if probe is not None and decrypts(rotating, probe):
        await write_probe(connection=connection, token=rotating.rotate(probe.encode()).decode())


async def reencrypt_all(*, session: AsyncSession, rotating: MultiFernet) -> int:
    """Re-encrypt every stored token (and the probe) with `rotating`'s newest key, in the
    caller's transaction. Returns values rewritten."""
    connection = await session.connection()
    done = Rotation()
    for table, name in _encrypted_columns():
        done += (await _rotate_rows(connection, rotating, table, name))[0]
    await _rotate_probe(connection, rotating)
    return done.rewritten


async def rotate_in_batches(
    *, sessions: async_sessionmaker[Any], rotating: MultiFernet, batch: int = 500
) -> Rotation:
    """Re-encrypt every stored token (and the probe) with `rotating`'s newest key while the bot
    runs: one short transaction per `batch` rows (unlike domain functions, this owns its
    transactions), so the bot's own writes never wait long for SQLite's single writer. Tokens
    no key decrypts are counted and left as they are."""
    done = Rotation()
    for table, name in _encrypted_columns():
        after: int | None = 0
        while after is not None:
            async with sessions.begin() as session:
                connection = await session.connection()
                part, last = await _rotate_rows(
                    connection, rotating, table, name, after=after, limit=batch
                )
            done += part
            after = last if part.rewritten + part.unreadable == batch else None
    async with sessions.begin() as session:
        await _rotate_probe(await session.connection(), rotating)
    return done
