"""`python -m bot backup`: dated, owner-only copies of the SQLite database, the newest N kept.

A copy is made with `VACUUM INTO`: one read transaction, so it is consistent while the bot keeps
writing (WAL), and compacted, so it carries no free page of the live file. Its file is created
empty with mode 0600 before SQLite writes a byte into it: it is never readable by others, not
even for an instant. Rotation deletes only files named like a backup, oldest first: with one
backup a day and `--keep 14`, an erased person leaves the last backup within 14 days.

PostgreSQL has its own tool, `pg_dump` (README, « Sauvegardes »): this module refuses its URLs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_KEEP = 14
BUSY_TIMEOUT_MS = 10_000
NAME_FORMAT = "aveq-%Y%m%d-%H%M%S.sqlite3"
_BACKUP_NAME = re.compile(r"aveq-\d{8}-\d{6}\.sqlite3")  # sorts by time


class NotSQLite(ValueError):
    """The database is not an SQLite file (PostgreSQL, or in memory): use pg_dump."""


@dataclass(frozen=True, slots=True)
class Backup:
    """What one backup run did."""

    path: Path
    removed: Sequence[Path]


def sqlite_file(url: str) -> Path:
    """The SQLite database file behind `url`, or `NotSQLite`."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        raise NotSQLite(url)
    if "mode=memory" in url:
        raise NotSQLite(url)
    return Path(database or "")


def _create_owner_only(path: Path) -> None:
    """An empty file, 0600 from its creation (never chmod-ed afterwards); refuses to reuse one."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backups_in(folder: Path) -> list[Path]:
    """The backups in `folder`, newest first (files named like a backup only)."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and _BACKUP_NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete every backup but the newest `keep`; returns what was deleted."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    removed = backups_in(folder)[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def backup_sqlite(url: str, folder: Path, now: dt.datetime, *, keep: int = DEFAULT_KEEP) -> Backup:
    """Copy the SQLite database to `folder/aveq-YYYYMMDD-HHMMSS.sqlite3` (0600, folder 0700),
    then keep only the newest `keep` backups. The bot may keep running meanwhile."""
    source = sqlite_file(url)
    if keep < 1:
        raise ValueError("keep at least one backup")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / now.strftime(NAME_FORMAT)
    _create_owner_only(target)  # FileExistsError: a backup of the same second is there
    try:
        with contextlib.closing(sqlite3.connect(source, isolation_level=None)) as connection:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("VACUUM INTO ?", (str(target),))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Backup(path=target, removed=rotate(folder, keep))
