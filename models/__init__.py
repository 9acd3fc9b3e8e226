"""Tables and the domain functions over them. Imports nothing from `telegram`."""

from models import (
    audit,
    botstate,
    orientations,
    outreach,
    people,
    privacy,
    reference,
    stats,
    team,
)

__all__ = [
    "audit",
    "botstate",
    "orientations",
    "outreach",
    "people",
    "privacy",
    "reference",
    "stats",
    "team",
]
