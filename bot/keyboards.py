"""Shared button builders (handlers and jobs both use them).

A form step's keyboard (`choices`) is built once for the same buttons and kept (PTB's
keyboards cannot be changed once built, so one may be sent any number of times): building
one took 60–100 µs, a tenth of a tap's CPU on /nouveau (issue 18, docs/performance.md). A
kept keyboard's JSON, which PTB computes again for every request, is computed once too
(`KeptKeyboard`): 57 µs for /nouveau's sex-and-age keyboard, eleven buttons.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import Nav, Page, PartnerRef, Pick

Option = tuple[str, str]  # (code, label)


def rows(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    """Lay buttons out `columns` per row."""
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


def nav_row(
    form: str, *, back: bool = True, skip: bool | str | None = False, cancel: bool = True
) -> list[InlineKeyboardButton]:
    """The Retour / Passer / Annuler row of a form step (`skip`: True, or its own label)."""
    row = []
    if back:
        row.append(InlineKeyboardButton(texts.BACK, callback_data=Nav(form, "back").pack()))
    if skip:
        label = skip if isinstance(skip, str) else texts.SKIP
        row.append(InlineKeyboardButton(label, callback_data=Nav(form, "skip").pack()))
    if cancel:
        row.append(InlineKeyboardButton(texts.CANCEL, callback_data=Nav(form, "cancel").pack()))
    return row


def choices(
    form: str,
    step: str,
    options: Iterable[Option],
    *,
    columns: int = 2,
    selected: set[str] | None = None,
    back: bool = True,
    validate: bool = False,
    skip: bool | str | None = False,
    more: Option | None = None,
) -> InlineKeyboardMarkup:
    """One button per option; with `selected`, a toggle list closed by « Valider »; `more`, a
    last button of its own (« ➕ Nouveau partenaire »)."""
    chosen = frozenset(selected) if selected is not None else None
    return _choices(form, step, tuple(options), columns, chosen, back, validate, skip, more)


class KeptKeyboard(InlineKeyboardMarkup):
    """A keyboard kept to be sent again: its JSON (`to_dict`) is computed once, when first
    sent (PTB's objects cannot be changed once built, so it stays right)."""

    __slots__ = ("_json",)
    _json: dict[str, Any]

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        """The keyboard as the Bot API takes it (the same dict each time: do not change it)."""
        if not recursive:
            return super().to_dict(recursive=False)
        try:
            return self._json
        except AttributeError:
            # PTB freezes its objects once built; a private attribute is left out of what it
            # compares and serialises (a pickled copy carries it along, equal to its own).
            object.__setattr__(self, "_json", super().to_dict())
            return self._json


KEPT_KEYBOARDS = 4096  # a few hundred distinct ones in use: steps × options × choices made


@functools.lru_cache(maxsize=KEPT_KEYBOARDS)
def _choices(
    form: str,
    step: str,
    options: tuple[Option, ...],
    columns: int,
    selected: frozenset[str] | None,
    back: bool,
    validate: bool,
    skip: bool | str | None,
    more: Option | None,
) -> InlineKeyboardMarkup:
    buttons = []
    for code, label in options:
        shown = f"✅ {label}" if selected is not None and code in selected else label
        buttons.append(InlineKeyboardButton(shown, callback_data=Pick(form, step, code).pack()))
    keyboard = rows(buttons, columns)
    if more is not None:
        code, label = more
        keyboard.append([InlineKeyboardButton(label, callback_data=Pick(form, step, code).pack())])
    if validate:
        count = len(selected or ())
        keyboard.append(
            [
                InlineKeyboardButton(
                    texts.VALIDATE.format(count=count), callback_data=Nav(form, "done").pack()
                )
            ]
        )
    keyboard.append(nav_row(form, back=back, skip=skip))
    return KeptKeyboard(keyboard)


@functools.lru_cache(maxsize=KEPT_KEYBOARDS)
def nav_only(
    form: str, *, back: bool = True, skip: bool | str | None = False
) -> InlineKeyboardMarkup:
    """A text step's keyboard: only navigation (kept, like `choices`)."""
    return KeptKeyboard([nav_row(form, back=back, skip=skip)])


def summary(form: str, step: str, offered: Iterable[Option], save: str) -> InlineKeyboardMarkup:
    """A form's summary (kept, like `choices`): one button for each step offered (`Pick` of
    `step`, the list of steps to ask again), then `save`, then Modifier and Annuler."""
    return _summary(form, step, tuple(offered), save)


@functools.lru_cache(maxsize=KEPT_KEYBOARDS)
def _summary(form: str, step: str, offered: tuple[Option, ...], save: str) -> InlineKeyboardMarkup:
    return KeptKeyboard(
        [
            *(
                [InlineKeyboardButton(label, callback_data=Pick(form, step, code).pack())]
                for code, label in offered
            ),
            [InlineKeyboardButton(save, callback_data=Nav(form, "save").pack())],
            [
                InlineKeyboardButton(texts.NEW_EDIT, callback_data=Nav(form, "edit").pack()),
                InlineKeyboardButton(texts.CANCEL, callback_data=Nav(form, "cancel").pack()),
            ],
        ]
    )


def pager(
    listing: str, page: int, pages: int, *, data: Callable[[int], str] | None = None
) -> list[InlineKeyboardButton]:
    """Précédent / Suivant buttons for page `page` (1-based) of `pages`: `Page(listing, n)`,
    or `data(n)` for a list whose buttons carry more than the page (its filters)."""
    pack = data or (lambda n: Page(listing, n).pack())
    row = []
    if page > 1:
        row.append(InlineKeyboardButton(texts.PREVIOUS, callback_data=pack(page - 1)))
    if page < pages:
        row.append(InlineKeyboardButton(texts.NEXT, callback_data=pack(page + 1)))
    return row


def contact_button(partner_id: int) -> InlineKeyboardButton:
    """« Contact du partenaire »: the partner's contact card, from a reminder or an
    orientation."""
    return InlineKeyboardButton(
        texts.PARTNER_CONTACT_BUTTON, callback_data=PartnerRef("contact", str(partner_id)).pack()
    )
