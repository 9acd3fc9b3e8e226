"""Domain errors carry a text key; the bot turns the key into a French sentence."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the programme refused the action. `key` names the sentence to show."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled with its key and parameters, whatever the subclass's own arguments: a
        refusal raised in the export's process reaches the bot's process intact."""
        return _rebuilt, (type(self), self.key, self.params)


def _rebuilt(kind: type[DomainError], key: str, params: dict[str, object]) -> DomainError:
    error = kind.__new__(kind)
    DomainError.__init__(error, key, **params)
    return error


class NotAllowed(DomainError):
    """The member may not act on this record."""

    def __init__(self) -> None:
        super().__init__("not_allowed")


class NotFound(DomainError):
    """The record does not exist (or is not visible to this member)."""

    def __init__(self) -> None:
        super().__init__("not_found")
