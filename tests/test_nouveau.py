"""/nouveau driven through Application.process_update, as a mediator would in the street."""

from __future__ import annotations

from sqlmodel import func, select

from bot.db import Sessions
from models.people import Person, PersonBarrier, with_contact_details
from tests.conftest import Clock, User

CONTACT = with_contact_details()


async def walk_to_summary(user: User, *, name: str = "Amina", consent: bool = True) -> None:
    assert "Prénom ou initiales" in await user.send("/nouveau")
    assert "Sexe" in await user.send(name)
    assert "Tranche d'âge" in await user.tap("Femme")
    assert "résidence" in await user.tap("Moins de 26 ans")
    assert "repéré" in await user.tap("QPV")
    assert "Freins" in await user.tap("Bouche-à-oreille")
    await user.tap("Pas de qualification")
    await user.tap("Niveau de français")
    assert "✅ Niveau de français" in user.labels()
    assert "France Travail" in await user.tap("Valider (2)")
    assert "5 derniers mois" in await user.tap("Oui")
    assert "RSA" in await user.tap("Non")
    assert "coordonnées" in await user.tap("Ne sait pas")
    assert "coordonnées" in await user.tap("Déjà informé·e")
    if consent:
        assert "téléphone" in await user.tap("Oui, la personne accepte")
        assert "note" in await user.send("06 12 34 56 78")
        assert "Vérifiez" in await user.send("Cherche un emploi en restauration.")
    else:
        assert "Vérifiez" in await user.tap("Non")


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
    for label in ("Homme", "26-44 ans", "Autre", "Événement"):
        await mediator.tap(label)
    await mediator.tap("Valider (0)")
    await mediator.tap("Non")  # not registered: the referent question is skipped
    assert "RSA" in mediator.last.text
    await mediator.tap("Oui")
    await mediator.tap("Déjà informé·e")
    await mediator.tap("Oui, la personne accepte")
    answer = await mediator.send("12")
    assert "n'est pas reconnu" in answer
    assert "téléphone" in answer
    assert "note" in await mediator.send("+33 7 81 23 45 67")


async def test_back_goes_to_the_previous_step_and_keeps_answers(mediator: User) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    await mediator.tap("Femme")
    assert "Sexe" in await mediator.tap("◀ Retour")
    assert "Tranche d'âge" in await mediator.tap("Homme")


async def test_free_text_on_a_button_step_reprompts(mediator: User) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    answer = await mediator.send("femme")
    assert "boutons" in answer
    assert "Sexe" in answer
    assert "Tranche d'âge" in await mediator.tap("Femme")


async def test_photo_on_a_text_step_reprompts(mediator: User) -> None:
    await mediator.send("/nouveau")
    assert "Prénom" in await mediator.send_photo()


async def test_modify_from_summary(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator, consent=False)
    assert "modifier" in await mediator.tap("✏️ Modifier")
    assert "Tranche d'âge" in await mediator.tap("Âge")
    summary = await mediator.tap("45-54 ans")
    assert "Âge : 45-54 ans" in summary
    # Changing consent to yes asks the contact details it now allows, then the summary.
    await mediator.tap("✏️ Modifier")
    await mediator.tap("Accord coordonnées")
    assert "téléphone" in await mediator.tap("Oui, la personne accepte")
    await mediator.tap("Passer")
    assert "Vérifiez" in await mediator.tap("Passer")
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
    await walk_to_summary(mediator, name="amina", consent=False)
    warning = await mediator.tap("✅ Enregistrer")
    assert "ressemble" in warning
    assert "P-0001" in warning
    assert await count_people(sessions) == 1
    card = await mediator.tap("Ouvrir P-0001")
    assert "P-0001 · Amina" in card
    assert await count_people(sessions) == 1
    await walk_to_summary(mediator, name="Amina", consent=False)
    await mediator.tap("✅ Enregistrer")
    assert "P-0002" in await mediator.tap("Non, c'est une autre personne")


async def test_idle_conversation_expires_with_a_message(
    app, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Amina")
    clock.advance(minutes=16)
    job = app.job_queue.get_jobs_by_name("expire_idle_drafts")[0]
    await job.run(app)
    assert "abandonnée après 15 minutes" in mediator.last.text
    assert "n'est plus en cours" in await mediator.tap("Femme")
    assert await count_people(sessions) == 0
    assert "Prénom" in await mediator.send("/nouveau")
