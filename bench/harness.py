"""Shared pieces: fresh databases, timing, peak memory, the report.

The bot's modules (SQLAlchemy, models) are imported by the functions that use them: the peers
benchmark measures other bots' peak memory in processes that never load ours."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.db import Sessions

_PACKAGE = Path(__file__).resolve().parent
# In a checkout: bench/results/; installed elsewhere: ./bench-results/ (BENCH_RESULTS overrides).
RESULTS = Path(
    os.environ.get("BENCH_RESULTS")
    or (
        _PACKAGE / "results"
        if (_PACKAGE.parent / "pyproject.toml").exists()
        else Path.cwd() / "bench-results"
    )
)


@dataclass
class Row:
    """One measured figure."""

    section: str
    database: str
    size: str
    figure: str
    value: float
    unit: str
    target: str = ""
    round: int = 0  # with --rounds: which turn of the interleaved runs measured it


@dataclass
class Report:
    """Everything measured in one run."""

    rows: list[Row] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        row = Row(*args, **kwargs)
        row.value = float(row.value)
        self.rows.append(row)
        print(
            f"{row.section:<12} {row.database:<10} {row.size:<22} {row.figure:<34} "
            f"{row.value:>12.3f} {row.unit:<6} {row.target}",
            flush=True,
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"machine": machine(), "rows": [asdict(r) for r in self.rows]}, indent=2)
        )


def ensure_data_key(kept: Path | None = None) -> None:
    """A throwaway data key, as the bot has one (drafts, phones and notes are encrypted), unless
    one is configured already (the test suite's). With `kept`, the key of a data set kept
    between runs (`--reuse-data`) is read from that file, or written there when new: a data set
    sealed with one key and read with another refuses every update."""
    from models import crypto

    try:
        crypto.cipher()
        return
    except crypto.KeyMissing:
        pass
    if kept is not None and kept.exists():
        crypto.configure([kept.read_text().strip()])
        return
    key = crypto.new_key()
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.touch(mode=0o600)
        kept.write_text(key)
    crypto.configure([key])


def calibration_seconds() -> float:
    """A fixed pure-Python loop (ten million additions), timed: this machine's speed at the
    moment of the run. Shared CI machines vary by tens of percent from one hour to the next;
    compare two runs' figures in proportion to theirs."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    """Cores, memory, speed, Python and library versions."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "calibration_loop_s": round(calibration_seconds(), 3),
        "memory_gib": round(memory, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": {
            name: version(name)
            for name in ("python-telegram-bot", "sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg")
        },
    }


STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_rss_mib() -> float:
    """Peak resident memory of this process (since the last `reset_peak_rss`, on Linux)."""
    if STATUS.exists():
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start the peak over from the current resident memory (Linux: clear_refs "5"), so what
    was generated before the measure is not counted as the bot's. Elsewhere, a no-op."""
    with contextlib.suppress(OSError):
        CLEAR_REFS.write_text("5")


def database_url(kind: str, postgres_url: str, name: str) -> str:
    """Where the benchmark database `name` lives."""
    from sqlalchemy.engine import make_url

    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{RESULTS / 'data' / f'{name}.sqlite3'}"
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


async def fresh_database(kind: str, postgres_url: str, name: str) -> str:
    """A migrated, empty database with its reference data."""
    from sqlalchemy import text

    from bot.db import create_engine, make_sessions, upgrade_database
    from models import reference

    if kind == "sqlite":
        path = RESULTS / "data" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f"{name}.sqlite3*"):
            leftover.unlink()
        url = database_url(kind, postgres_url, name)
    else:
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {name}"))
        await admin.dispose()
        url = database_url(kind, postgres_url, name)
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    async with make_sessions(engine).begin() as session:
        await reference.load_reference_data(session=session)
    await engine.dispose()
    return url


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    """Durations in milliseconds of `repeat` calls (after one warm-up call)."""
    await call()
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0-1) of `values`."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


async def analyse(url: str, sessions: Sessions) -> None:
    """Refresh the planner's statistics after a bulk load (ANALYZE), as operators would."""
    from sqlalchemy import text

    async with sessions() as session:
        await session.exec(text("ANALYZE"))  # type: ignore[call-overload]
        await session.commit()
    _ = url


async def seed_open_orientations(
    session: AsyncSession, *, mediator_ids: Sequence[int], due: Sequence[dt.datetime]
) -> None:
    """One person and one open orientation per due time, person i followed by mediator i."""
    from sqlmodel import select

    from models import demo
    from models.base import utcnow
    from models.orientations import Orientation
    from models.people import Person
    from models.reference import Neighbourhood, Partner

    now = utcnow()
    nbh = (await session.exec(select(Neighbourhood))).first()
    partner = (await session.exec(select(Partner))).first()
    if nbh is None or partner is None:
        raise RuntimeError("load the reference data first")
    conn = await session.connection()
    person = {
        "first_name": "X", "first_name_key": "x", "sex": "female", "age_bracket": "26_44",
        "residence": "qpv", "channel": "other", "neighbourhood_id": nbh.id,
        "registered_ft": "no", "rsa": "no", "contact_consent": False, "status": "oriented",
        "engaged_at": now, "last_contact_at": now,
    }  # fmt: skip
    person_ids = await demo.bulk_insert(
        conn, Person, [{**person, "mediator_id": m} for m in mediator_ids]
    )
    orientation = {
        "partner_id": partner.id, "purpose": "support", "mode": "information",
        "created_at": now, "reminders_sent": 0, "overdue": False, "seq": 0,
    }  # fmt: skip
    rows = [
        {**orientation, "person_id": p, "mediator_id": m, "next_check_at": when}
        for p, m, when in zip(person_ids, mediator_ids, due, strict=True)
    ]
    await demo.bulk_insert(conn, Orientation, rows)
