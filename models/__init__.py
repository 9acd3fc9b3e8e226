"""Tables and the domain functions over them. Imports nothing from `telegram`."""

from models import (
    audit,
    botstate,
    committee,
    confirmations,
    consent,
    events,
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
    "committee",
    "confirmations",
    "consent",
    "events",
    "orientations",
    "outreach",
    "people",
    "privacy",
    "reference",
    "stats",
    "team",
]
