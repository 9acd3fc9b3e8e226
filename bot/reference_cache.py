"""Reference data kept in memory: it changes only at start (the versioned file) or when a
partner is added from the field. Saves a query per button.

Every change of a partner, neighbourhood or list entry gives the reference data a new version
in the database, in the change's own transaction (`models.botstate`); each member's update
reads that version with its chat's state (no query of its own) and hands it to `observe`: a
partner added on one replica is offered by every other one from their next update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.db import Sessions
from models import reference
from models.reference import Choice, Kind, Neighbourhood, Partner


class ReferenceCache:
    """Lazily loaded, process-wide copies of the reference tables."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()
        self._choices: dict[Kind, list[Choice]] | None = None
        self._labels: dict[Kind, dict[str, str]] = {}
        self._partners: Sequence[Partner] = ()
        self._neighbourhoods: Sequence[Neighbourhood] = ()
        self._version: str | None = None
        self._generation = 0  # invalidations so far: one during a load voids that load

    async def _ensure(self) -> dict[Kind, list[Choice]]:
        if self._choices is not None:
            return self._choices
        async with self._lock:
            if self._choices is None:
                generation = self._generation
                async with self._sessions() as session:
                    choices = {k: await reference.choices(session=session, kind=k) for k in Kind}
                    self._labels = {
                        k: await reference.labels(session=session, kind=k) for k in Kind
                    }
                    self._partners = await reference.partners(session=session)
                    self._neighbourhoods = await reference.neighbourhoods(session=session)
                if generation != self._generation:
                    return choices  # already stale: used once, reloaded next time
                self._choices = choices
        return self._choices

    def invalidate(self) -> None:
        """Reload on next use (a partner was added)."""
        self._choices = None
        self._generation += 1

    def observe(self, version: str | None) -> None:
        """The reference data's version in the database now: reload on next use if it is not
        the one last seen (read before loading, so what is loaded is at least as new)."""
        if version != self._version:
            self._version = version
            self.invalidate()

    async def choices(self, kind: Kind) -> list[Choice]:
        """Active entries of a list, in order."""
        return (await self._ensure())[kind]

    async def labels(self, kind: Kind) -> dict[str, str]:
        """Code → label, retired entries included."""
        await self._ensure()
        return self._labels[kind]

    async def partners(self, category: str | None = None) -> list[Partner]:
        """Active partners (of a category), by name."""
        await self._ensure()
        return [p for p in self._partners if category is None or p.category == category]

    async def neighbourhoods(self) -> Sequence[Neighbourhood]:
        """Active neighbourhoods, by name."""
        await self._ensure()
        return self._neighbourhoods
