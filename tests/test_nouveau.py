"""/nouveau driven through Application.process_update, as a mediator would in the street."""

from __future__ import annotations

from sqlmodel import func, select

from bot.db import Sessions
from models.people import Person, PersonBarrier, with_contact_details
from tests.conftest import Clock, User, engage_person
from tests.test_followups import member_of

CONTACT = with_contact_details()


async def walk_to_summary(
    user: User, *, name: str = "Amina", consent: bool = True, duplicate: bool = False
) -> None:
    assert "Prénom ou initiales" in await user.send("/nouveau")
    if duplicate:
        assert "ressemble" in await user.send(name)
        assert "Sexe et tranche d'âge" in await user.tap("Non, c'est une autre personne")
    else:
        assert "Sexe et tranche d'âge" in await user.send(name)
    assert "Où habite-t-elle" in await user.tap("F · Moins de 26 ans")
    assert "Comment a-t-elle été repérée" in await user.tap("QPV")
    assert "Freins" in await user.tap("Bouche-à-oreille")
    await user.tap("Pas de qualification")
    await user.tap("Niveau de français")
    assert "✅ Niveau de français" in user.labels()
    assert "Est-elle inscrite à France Travail" in await user.tap("Valider (2)")
    assert "Touche-t-elle le RSA" in await user.tap("Oui · sans contact depuis 5 mois")
    question = await user.tap("Ne sait pas")
    assert "informer la personne" in question
    assert "Accepte-t-elle que l'on garde ses coordonnées" in question
    if consent:
        assert "Vérifiez" in await user.tap("✅ Informée · d'accord")
        assert "téléphone" in await user.tap("📞 Téléphone")
        assert "Vérifiez" in await user.send("06 12 34 56 78")
        assert "note" in await user.tap("📝 Note")
        assert "Vérifiez" in await user.send("Cherche un emploi en restauration.")
    else:
        assert "Vérifiez" in await user.tap("Informée · refuse")


async def count_people(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Person))).one()


async def test_record_a_person_with_buttons(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator)
    summary = mediator.last.text
    assert "Prénom : Amina" in summary
    assert "Freins : Pas de qualification, Niveau de français" in summary
    assert "Téléphone : +33612345678" in summary
    assert await count_people(sessions) == 0, "nothing is saved before « Enregistrer »"

    saved = await mediator.tap("✅ Enregistrer")

    assert "Enregistré : P-0001 (Amina)" in saved
    assert "La Chapelle Nord" in saved
    async with sessions() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
        barriers = (await session.exec(select(PersonBarrier.barrier))).all()
    assert (person.sex, person.age_bracket, person.residence) == ("female", "under_26", "qpv")
    assert (person.registered_ft, person.referent_contact_5m, person.rsa) == (
        "yes",
        "no",
        "unknown",
    )
    assert person.contact_consent
    assert person.contact_consent_at is not None
    assert person.phone == "+33612345678"
    assert sorted(barriers) == ["french", "no_qualification"]


async def test_without_consent_no_contact_details_are_asked(
    mediator: User, sessions: Sessions
) -> None:
    await walk_to_summary(mediator, consent=False)
    assert "Téléphone" not in mediator.last.text
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
    assert person.phone is None
    assert person.note is None
    assert not person.contact_consent


async def test_invalid_phone_is_asked_again(mediator: User) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Moussa")
    for label in ("H · 26-44 ans", "Autre", "Événement"):
        await mediator.tap(label)
    await mediator.tap("Valider (0)")
    await mediator.tap("Non")
    assert "Touche-t-il le RSA" in mediator.last.text
    await mediator.tap("Oui")
    await mediator.tap("✅ Informé · d'accord")
    await mediator.tap("📞 Téléphone")
    answer = await mediator.send("12")
    assert "n'est pas reconnu" in answer
    assert "téléphone" in answer
    assert "Téléphone : +33781234567" in await mediator.send("+33 7 81 23 45 67")


async def test_back_goes_to_the_previous_step_and_keeps_answers(mediator: User) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    await mediator.tap("F · 26-44 ans")
    assert "Sexe et tranche d'âge" in await mediator.tap("◀ Retour")
    assert "Où habite-t-il" in await mediator.tap("H · 26-44 ans")


async def test_free_text_on_a_button_step_reprompts(mediator: User) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    answer = await mediator.send("bleu")
    assert "boutons" in answer
    assert "Sexe" in answer
    assert "Où habite-t-elle" in await mediator.tap("F · 26-44 ans")


async def saved_profile(mediator: User, sessions: Sessions) -> tuple[str, str]:
    """From the residence question to « Enregistrer », by buttons: (sex, age bracket) stored."""
    for label in ("QPV", "Bouche-à-oreille", "Valider (0)", "Non", "Oui"):
        await mediator.tap(label)
    agree = next(label for label in mediator.labels() if "d'accord" in label)
    await mediator.tap(agree)
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
    return person.sex, person.age_bracket


async def test_typing_the_sex_alone_asks_the_age_bracket_alone(
    mediator: User, sessions: Sessions
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    question = await mediator.send("FEMME")
    assert "Quelle est sa tranche d'âge" in question
    assert "26-44 ans" in mediator.labels()
    assert "F · 26-44 ans" not in mediator.labels()
    assert "Où habite-t-elle" in await mediator.send("26-44")
    assert await saved_profile(mediator, sessions) == ("female", "26_44")


async def test_typing_the_age_bracket_alone_asks_the_sex_alone(
    mediator: User, sessions: Sessions
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Moussa")
    assert "Sexe ?" in await mediator.send("45-54")
    assert {"Femme", "Homme", "Autre", "Non précisé"} <= set(mediator.labels())
    assert "Où habite-t-il" in await mediator.send("h")
    assert await saved_profile(mediator, sessions) == ("male", "45_54")


async def test_typing_both_halves_answers_the_keyboard(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    assert "Où habite-t-elle" in await mediator.send("Femme 26-44")
    summary_sex_age = await saved_profile(mediator, sessions)
    assert summary_sex_age == ("female", "26_44")


async def test_the_halves_typed_in_any_order_with_accents_and_case(
    mediator: User, sessions: Sessions
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    assert "Où la personne habite-t-elle" in await mediator.send("55 ans et plus NON PRECISE")
    assert await saved_profile(mediator, sessions) == ("unspecified", "55_plus")


async def test_retour_from_the_age_asked_alone_goes_back_to_the_keyboard(
    mediator: User, sessions: Sessions
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    await mediator.send("femme")
    assert "Sexe et tranche d'âge" in await mediator.tap("◀ Retour")
    assert "Où habite-t-il" in await mediator.send("homme moins de 26")
    assert await saved_profile(mediator, sessions) == ("male", "under_26")


async def test_photo_on_a_text_step_reprompts(mediator: User) -> None:
    await mediator.send("/nouveau")
    answer = await mediator.send_photo()
    assert "J'attends un message texte" in answer
    assert "Prénom" in answer


async def test_modify_from_summary(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator, consent=False)
    assert "modifier" in await mediator.tap("✏️ Modifier")
    assert "Sexe et tranche d'âge" in await mediator.tap("Sexe et âge")
    summary = await mediator.tap("F · 45-54 ans")
    assert "Âge : 45-54 ans" in summary
    assert "📞 Téléphone (facultatif)" not in mediator.labels()
    # Changing consent to yes offers the contact details it now allows, on the summary.
    await mediator.tap("✏️ Modifier")
    await mediator.tap("Information")
    assert "Vérifiez" in await mediator.tap("✅ Informée · d'accord")
    assert {"📞 Téléphone (facultatif)", "📝 Note (facultatif)"} <= set(mediator.labels())
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
    assert person.age_bracket == "45_54"
    assert person.contact_consent


async def test_cancel_saves_nothing(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator)
    assert "Rien n'a été enregistré" in await mediator.send("/annuler")
    assert await count_people(sessions) == 0
    assert "Il n'y a rien à annuler" in await mediator.send("/annuler")


async def test_duplicate_is_shown_before_saving(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator, consent=False)
    await mediator.tap("✅ Enregistrer")
    await mediator.send("/nouveau")
    warning = await mediator.send("amina")  # asked at once, not after every other answer
    assert "ressemble" in warning
    assert any(label.startswith("Ouvrir P-0001 · Amina") for label in mediator.labels())
    assert await count_people(sessions) == 1
    card = await mediator.tap("Ouvrir P-0001")
    assert "P-0001 · Amina" in card
    assert await count_people(sessions) == 1
    assert "Il n'y a rien à annuler" in await mediator.send("/annuler")  # the form ended
    await walk_to_summary(mediator, name="Amina", consent=False, duplicate=True)
    assert "P-0002" in await mediator.tap("✅ Enregistrer")
    assert await count_people(sessions) == 2


async def test_duplicate_check_forgives_accents_and_small_typos(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, "Aïssatou")
    for typed in ("Aissatou", "Aisatou", "AÏSSATOU"):
        await mediator.send("/nouveau")
        assert "ressemble" in await mediator.send(typed)
        assert any(label.startswith("Ouvrir P-0001 · Aïssatou") for label in mediator.labels())
    await mediator.send("/nouveau")
    assert "Sexe et tranche d'âge" in await mediator.send("Aminata")  # no one alike: not asked


async def test_idle_conversation_expires_with_a_message(
    app, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    clock.advance(minutes=16)
    job = app.job_queue.get_jobs_by_name("expire_idle_drafts")[0]
    await job.run(app)
    assert "abandonnée après 15 minutes" in mediator.last.text
    assert "n'est plus en cours" in await mediator.tap("F · 26-44 ans")
    assert await count_people(sessions) == 0
    assert "Prénom" in await mediator.send("/nouveau")


class Counting(User):
    """A mediator whose button taps (callback queries) and typed messages are counted."""

    taps = typed = 0

    async def process(self, payload: dict) -> None:
        if "callback_query" in payload:
            self.taps += 1
        elif not payload["message"].get("text", "").startswith("/"):
            self.typed += 1
        await super().process(payload)


async def test_the_common_path_takes_8_taps_and_the_typed_first_name(
    app, api, mediator: User, sessions: Sessions
) -> None:
    user = Counting(app, api, mediator.id)
    await user.send("/nouveau")
    await user.send("Awa")
    for label in (
        "F · 26-44 ans",
        "QPV",
        "Bouche-à-oreille",
        "Valider (0)",
        "Oui · contact ces 5 derniers mois",
        "Non",
        "✅ Informée · d'accord",  # informed and agreeing: no notice step, no consent step
    ):
        await user.tap(label)
    assert "Vérifiez" in user.last.text  # phone and note: offered here, never asked in turn
    assert "Enregistré : P-0001 (Awa)" in await user.tap("✅ Enregistrer")
    assert (user.taps, user.typed) == (8, 1)
    async with sessions() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
    assert (person.sex, person.age_bracket, person.residence, person.channel) == (
        "female",
        "26_44",
        "qpv",
        "word_of_mouth",
    )
    assert (person.registered_ft, person.referent_contact_5m, person.rsa) == ("yes", "yes", "no")
    assert person.contact_consent
    assert (person.phone, person.note) == (None, None)


async def test_saved_person_can_be_oriented_at_once_or_another_recorded(
    mediator: User, sessions: Sessions
) -> None:
    await walk_to_summary(mediator, consent=False)
    await mediator.tap("✅ Enregistrer")
    assert mediator.labels() == ["➡️ Orienter maintenant", "➕ Nouvelle personne"]
    assert "P-0001 Amina : vers quel type de partenaire" in await mediator.tap(
        "➡️ Orienter maintenant"
    )
    await mediator.send("/annuler")
    await walk_to_summary(mediator, name="Binta", consent=False)
    await mediator.tap("✅ Enregistrer")
    assert "Prénom ou initiales" in await mediator.tap("➕ Nouvelle personne")
    assert "Sexe et tranche d'âge" in await mediator.send("Chloé")
    assert await count_people(sessions) == 2


async def test_questions_follow_the_recorded_sex_and_stay_neutral_without_it(
    mediator: User, sessions: Sessions
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Sam")
    assert "Sexe ?" in await mediator.tap("Autre, ou non précisé")
    assert "Tranche d'âge" in await mediator.tap("Non précisé")
    assert "Où la personne habite-t-elle" in await mediator.tap("45-54 ans")
    await mediator.tap("QPV")
    await mediator.tap("Bouche-à-oreille")
    assert "La personne est-elle inscrite" in await mediator.tap("Valider (0)")
    assert "La personne touche-t-elle le RSA" in await mediator.tap("Ne sait pas")
    await mediator.tap("Non")
    assert "Informé·e · refuse" in mediator.labels()
    assert "Oui, la personne accepte" in [
        b["text"] for b in (await _show_consent(mediator)).buttons()
    ]
    await mediator.tap("Non")
    summary = mediator.last.text
    assert "Sexe : Non précisé" in summary
    assert "Âge : 45-54 ans" in summary
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
    assert (person.sex, person.age_bracket, person.registered_ft) == (
        "unspecified",
        "45_54",
        "unknown",
    )
    assert person.referent_contact_5m is None
    assert not person.contact_consent


async def _show_consent(user: User):
    await user.tap("📄 Montrer l'information")
    await user.tap("français")
    return user.last
