"""Domain errors carry a text key; the bot turns the key into a French sentence."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the programme refused the action. `key` names the sentence to show."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotAllowed(DomainError):
    """The member may not act on this record."""

    def __init__(self) -> None:
        super().__init__("not_allowed")


class NotFound(DomainError):
    """The record does not exist (or is not visible to this member)."""

    def __init__(self) -> None:
        super().__init__("not_found")
