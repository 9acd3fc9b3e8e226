"""Tables and the domain functions over them. Imports nothing from `telegram`."""

from models import botstate, orientations, outreach, people, reference, stats, team

__all__ = ["botstate", "orientations", "outreach", "people", "reference", "stats", "team"]
