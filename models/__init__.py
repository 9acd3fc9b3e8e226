"""Tables and the domain functions over them. Imports nothing from `telegram`."""

from models import botstate, outreach, people, reference, team

__all__ = ["botstate", "outreach", "people", "reference", "team"]
