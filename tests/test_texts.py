"""The sentence catalogue (bot/texts.py) and the codes it names: every code of an enum has its
French label and every label its code; every sentence is said somewhere; every domain error a
member can meet has its own sentence."""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from pathlib import Path

import pytest

from bot import texts
from bot.formatting import plural
from models.confirmations import NotForUsReason, PartnerAnswer, State
from models.events import EventKind, EventOutcome
from models.orientations import ContactKind, ExitReason, Mode, Outcome, Purpose
from models.people import Answer, Sex, Status
from models.team import Role, Unreachable

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
        (Unreachable, texts.UNREACHABLE_REASONS),
    ],
    ids=lambda table: table.__name__ if isinstance(table, type) else "",
)
def test_every_code_has_its_label_and_every_label_its_code(
    codes: type[StrEnum], labels: dict[str, str]
) -> None:
    assert set(labels) == {code.value for code in codes}
    assert all(label.strip() for label in labels.values())


def test_every_refused_confirmation_link_has_its_sentence_and_every_sentence_its_state() -> None:
    """A correspondant's link is refused for every state but « pending », each in its words."""
    assert set(texts.CONFIRM_REFUSED) == {state.value for state in State} - {State.PENDING}
    assert all(sentence.strip() for sentence in texts.CONFIRM_REFUSED.values())


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


# --- French on screen: one convention for inclusive writing, no « (s) » plurals -------------
def _strings(name: str, value: object) -> list[tuple[str, str]]:
    """Every string inside a catalogue entry (dicts, tuples and lists opened), with its path."""
    if isinstance(value, str):
        return [(name, value)]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings(f"{name}[{key!r}]", item)]
    if isinstance(value, tuple | list):
        return [s for i, item in enumerate(value) for s in _strings(f"{name}[{i}]", item)]
    return []


def _reference_labels() -> list[tuple[str, str]]:
    """The labels and names of the reference data, as members see them on buttons."""
    data = tomllib.loads((ROOT / "models" / "reference_data.toml").read_text(encoding="utf-8"))
    return [
        (f"{table}[{entry.get('code')}].{field}", entry[field])
        for table, entries in data.items()
        for entry in entries
        for field in ("label", "name")
        if field in entry
    ]


SCREEN = [
    s for name, value in vars(texts).items() if name.isupper() for s in _strings(name, value)
]
SCREEN += _reference_labels()

# The middle dot is the one convention (« inscrit·e », « médiateur·rice »): no doublet written
# out beside it, no parenthesised feminine or plural ending.
DOUBLETS = re.compile(
    r"\b(?:elle ou il|il ou elle|elles ou ils|ils ou elles|celle ou celui|celui ou celle)\b"
    r"|\b(?:il|elle|ils|elles)\s*/\s*(?:il|elle|ils|elles)\b"
    r"|\w+rices? ou \w+eurs?\b|\w+eurs? ou \w+rices?\b"  # « coordinatrice ou coordinateur »
    r"|\w\((?:e|s|es|x|le|ne|ve|rice|trice)\)",  # « inscrit(e) », « changement(s) »
    re.IGNORECASE,
)


def test_the_catalogue_and_the_reference_labels_are_read() -> None:
    names = {name.split("[")[0] for name, _ in SCREEN}
    assert {"REFUSAL", "ROLE_LABELS", "channel", "neighbourhoods"} <= names
    assert len(SCREEN) > 500


@pytest.mark.parametrize(
    "slip",
    [
        "Comment a-t-elle ou il été repéré·e ?",
        "Il ou elle doit envoyer ce message.",
        "il/elle",
        "Demandez à votre coordinatrice ou coordinateur.",
        "3 changement(s)",
        "personne(s) anonymisée(s)",
        "inscrit(e)",
    ],
)
def test_the_doublet_check_catches_every_kind_of_doublet(slip: str) -> None:
    assert DOUBLETS.search(slip)


@pytest.mark.parametrize("fine", ["inscrit·e", "(Ré)inscription", "PMSMP (immersion)", "(19e)"])
def test_the_doublet_check_lets_the_middle_dot_and_plain_brackets_through(fine: str) -> None:
    assert not DOUBLETS.search(fine)


def test_no_doublet_and_no_bracketed_plural_on_screen() -> None:
    slips = [(name, text) for name, text in SCREEN if DOUBLETS.search(text)]
    assert slips == []


def test_the_typography_is_one_convention() -> None:
    """A space before « : ; ? ! » (never glued to the word), guillemets with their spaces, the
    ellipsis character, the straight apostrophe: what a test or a member types finds it."""
    rules = {
        "glued punctuation": re.compile(r"[^\s\d/{(\[][;?!](?=\s|$)|[^\s\d/{(\[]:(?=\s|$)"),
        "guillemets": re.compile(r"«(?! )|(?<! )»"),
        "three dots": re.compile(r"\.\.\."),
        "curly apostrophe": re.compile(r"’"),
        "space before comma": re.compile(r" ,"),
        "thousands without a thin space": re.compile(r"\b\d{1,3} \d{3}\b"),  # « 1\u202f000 »
    }
    slips = [(rule, name) for name, text in SCREEN for rule, r in rules.items() if r.search(text)]
    assert slips == []


def test_labels_for_people_do_not_assume_their_gender() -> None:
    """A label that counts or names people of any sex takes the middle dot, or agrees with
    « personnes »: « Inscrit·es à France Travail », never « Inscrites »."""
    assumed = re.compile(r"^(?:Inscrites|Non inscrites|Venues|Absentes|Accrochées)\b")
    assert [name for name, text in SCREEN if assumed.search(text)] == []


# --- Counts: « 1 personne », « 0 personne », « 3 personnes », through bot.formatting.plural ----
def _pairs(name: str, value: object) -> dict[str, tuple[str, str]]:
    """The plural forms (`(one, other)` with `{count}` in the other) in an entry, by path."""
    if isinstance(value, dict):
        return {
            p: f
            for key, item in value.items()
            for p, f in _pairs(f"{name}[{key!r}]", item).items()
        }
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(item, str) for item in value)
        and "{count}" in value[1]
    ):
        return {name: value}
    return {}


PAIRS = {
    path: forms
    for name, value in vars(texts).items()
    if name.isupper()
    for path, forms in _pairs(name, value).items()
}
# A placeholder followed by a noun or adjective in the plural: « {count} personnes », « {sent}
# demandes », « {count} rendez-vous fixés ». Not after a slash (« {done} / {target} accrochées »
# reads as a fraction), not `{limit}` (a fixed maximum, never below 2), not a word that does
# not vary (« {months} mois », « {shown} plus récentes ») or that is not about the count.
COUNTED = re.compile(r"(?<!/ )\{(?!limit\})\w+\}[ \u00a0\u202f]+(?P<word>[\w·-]+)")
PLURAL_WORD = re.compile(r"(?:s|x|·es|·s)$")
INVARIABLE = {"mois", "plus", "sans", "dans", "vers", "fois", "pas", "rendez-vous", "s"}
INVARIABLE |= {"les", "des", "ses", "vous", "nous"}


def unpluralised(text: str) -> list[str]:
    """The counted words of `text` written in the plural whatever the count."""
    found = [m["word"] for m in COUNTED.finditer(text)]
    return [w for w in found if w not in INVARIABLE and PLURAL_WORD.search(w)]


@pytest.mark.parametrize(
    "slip",
    [
        "{count} personnes",
        "Créées : {people} personnes, {orientations} orientations.",
        "délai médian {days} jours",
        "{count} inscrit·es venu·es",
        "{sent} demandes, {answered} réponses",
    ],
)
def test_the_count_check_catches_a_plural_written_whatever_the_count(slip: str) -> None:
    assert unpluralised(slip)


@pytest.mark.parametrize(
    "fine",
    [
        "{count} personne",
        "Personnes informées : {count}",
        "{done} / {target} accrochées",
        "{to} les personnes de {name}",
        "({limit} caractères au plus)",
        "aucun contact depuis {months} mois",
        "{count} · {filters}",
    ],
)
def test_the_count_check_lets_singulars_labels_and_other_words_through(fine: str) -> None:
    assert not unpluralised(fine)


def test_counts_on_screen_agree_with_the_count() -> None:
    """Every count that agrees with a word goes through `plural(count, one, other)`: only the
    plural form of a pair may write the plural."""
    slips = [
        (name, unpluralised(text))
        for name, text in SCREEN
        if not (name.endswith("[1]") and name.removesuffix("[1]") in PAIRS) and unpluralised(text)
    ]
    assert slips == []


def test_every_plural_pair_is_read_with_plural() -> None:
    """A pair is used through `plural` (never formatted by hand, which would show one form
    whatever the count), and its two forms differ."""
    assert {"COUNT_ENGAGED", "CLI_ROTATED", "CLI_COUNTS['people']"} <= set(PAIRS)
    for path, (one, other) in PAIRS.items():
        assert one != other, path
        name = path.split("[")[0]
        assert re.search(rf"\*texts\.{name}\b", CODE), f"{name} not read with plural(...)"


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 personne accrochée"),
        (1, "1 personne accrochée"),
        (2, "2 personnes accrochées"),
        (1500, "1\u202f500 personnes accrochées"),
    ],
)
def test_plural_follows_the_french_rule(count: int, shown: str) -> None:
    assert plural(count, *texts.COUNT_ENGAGED) == shown
