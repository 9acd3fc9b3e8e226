"""Yearly targets where they belong: the team's (`YEARLY_TARGET`, the O2R agreement), a
neighbourhood's own (optional, `yearly_target` in `reference_data.toml`), and a mediator's
share. A mediator never sees the team's 800 as theirs; a neighbourhood without a target of
its own shows none.

A mediator's share: their neighbourhood's target divided among its active mediators when the
neighbourhood has one; else what the team's target leaves once those neighbourhoods' targets
are set aside, divided among the other active mediators (with no neighbourhood target: the
team's target divided among all active mediators). The shares add up to the team's target.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.reference import Neighbourhood
from models.team import Member, Role


@dataclass(frozen=True, slots=True)
class Targets:
    """Every yearly target of the team, for one year."""

    team: int
    by_neighbourhood: dict[int, int] = field(default_factory=dict)
    by_mediator: dict[int, float] = field(default_factory=dict)

    def of_neighbourhood(self, neighbourhood_id: int | None) -> int | None:
        """The neighbourhood's own target, or None (never the team's)."""
        return self.by_neighbourhood.get(neighbourhood_id) if neighbourhood_id else None

    def of_mediator(self, member_id: int | None) -> float | None:
        """The mediator's share, or None for someone who is not an active mediator."""
        return self.by_mediator.get(member_id) if member_id else None


def targets(
    *, team: int, neighbourhoods: Sequence[Neighbourhood], members: Sequence[Member]
) -> Targets:
    """The team's target, each neighbourhood's own (where set) and each active mediator's
    share."""
    own = {n.id: n.yearly_target for n in neighbourhoods if n.id is not None and n.yearly_target}
    mediators = [m for m in members if m.active and m.role == Role.MEDIATOR and m.id is not None]
    per_area = Counter(m.neighbourhood_id for m in mediators)
    covered = [m for m in mediators if m.neighbourhood_id in own]
    others = len(mediators) - len(covered)
    left = max(0, team - sum(own[a] for a in per_area if a in own))  # type: ignore[index]
    shares: dict[int, float] = {}
    for member in mediators:
        area = member.neighbourhood_id
        if area in own:
            shares[member.id or 0] = own[area] / per_area[area]
        else:
            shares[member.id or 0] = left / others
    return Targets(team=team, by_neighbourhood=own, by_mediator=shares)  # type: ignore[arg-type]


def weeks_left(today: dt.date) -> int:
    """Whole weeks from `today` to the end of its year (the pace is spread over them)."""
    return max(0, (dt.date(today.year, 12, 31) - today).days // 7)


def pace_needed(target: float, done: int, today: dt.date) -> float:
    """People to engage per week from now on to reach `target` by 31 December."""
    missing = max(0.0, target - done)
    left = weeks_left(today)
    return missing / left if left else missing
