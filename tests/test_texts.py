"""The sentence catalogue (bot/texts.py) and the codes it names: every code of an enum has its
French label and every label its code; every sentence is said somewhere; every domain error a
member can meet has its own sentence."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from bot import texts
from models.confirmations import NotForUsReason, PartnerAnswer
from models.events import EventKind, EventOutcome
from models.orientations import ContactKind, ExitReason, Mode, Outcome, Purpose
from models.people import Answer, Sex, Status
from models.team import Role

ROOT = Path(__file__).resolve().parent.parent
CODE = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("bot", "handlers", "jobs", "models")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path.name != "texts.py"
)
CATALOGUE = (ROOT / "bot" / "texts.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (Sex, texts.SEX_LABELS),
        (Answer, texts.ANSWER_LABELS),
        (Status, texts.STATUS_LABELS),
        (Role, texts.ROLE_LABELS),
        (Purpose, texts.PURPOSE_LABELS),
        (Mode, texts.MODE_LABELS),
        (Outcome, texts.OUTCOME_LABELS),
        (ContactKind, texts.CONTACT_LABELS),
        (ExitReason, texts.EXIT_LABELS),
        (EventKind, texts.EVENT_KIND_LABELS),
        (EventOutcome, texts.EVENT_OUTCOME_LABELS),
        (PartnerAnswer, texts.CONFIRM_ANSWER_LABELS),
        (NotForUsReason, texts.CONFIRM_REASON_LABELS),
    ],
)
def test_every_code_has_its_label_and_every_label_its_code(
    codes: type[StrEnum], labels: dict[str, str]
) -> None:
    assert set(labels) == {code.value for code in codes}
    assert all(label.strip() for label in labels.values())


def test_every_sentence_of_the_catalogue_is_said_somewhere() -> None:
    names = [name for name in vars(texts) if name.isupper()]
    unused = [
        name
        for name in names
        if not re.search(rf"\b{name}\b", CODE)
        and len(re.findall(rf"\b{name}\b", CATALOGUE)) == 1  # not used by another sentence
    ]
    assert unused == []


def test_every_domain_error_has_its_own_sentence() -> None:
    calls = re.findall(r"(?:DomainError|super\(\).__init__)\(([^()]*)\)", CODE)
    raised = {key for call in calls for key in re.findall(r'"([a-z_]+)"', call)}
    raised |= set(re.findall(r'DomainError\(\s*"([a-z_]+)"', CODE))
    assert raised - set(texts.DOMAIN_ERRORS) == set()
    passed_on = set(re.findall(r'\bkey="([a-z_]+)"', CODE))  # e.g. clean_text(..., key=...)
    assert set(texts.DOMAIN_ERRORS) - raised - passed_on == set()
