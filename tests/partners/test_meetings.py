"""Mutualisation meetings: the agenda built from what changed since the previous meeting;
office hours with a pseudonymised participant; workshops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.db import utcnow
from referral.exceptions import InvalidInput, NotFound, PermissionDenied
from referral.partners import meetings, office_hours, opportunities, services, workshops
from referral.partners.exceptions import OfficeHourUnavailable
from referral.partners.models import AgendaItemSource, NetworkMeeting, OfficeHour, Opportunity, Partner
from referral.referrals.models import ReferralState, ReferralTransition
from tests import factories


@pytest.fixture
def landlord(session: Session) -> Partner:
    return session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))


def previous_meeting(session: Session, cp) -> NetworkMeeting:
    """A meeting held now: everything done in the test happens after it."""
    meeting = NetworkMeeting(territory_id=cp.territory_id, held_at=utcnow(), title="Réunion précédente")
    session.add(meeting)
    session.flush()
    return meeting


def test_the_agenda_lists_what_changed_since_the_previous_meeting(
    session: Session, demo_user, landlord: Partner
) -> None:
    cp = demo_user("cp_logement")
    previous_meeting(session, cp)

    # A new opportunity, published.
    fresh = opportunities.create_opportunity(
        session,
        cp,
        {"partner_id": landlord.id, "title": "Logement passerelle", "domain": "logement", "capacity": 2},
    )
    opportunities.transition_opportunity(session, cp, fresh.id, "publish")
    # A draft: not news yet.
    opportunities.create_opportunity(
        session, cp, {"partner_id": landlord.id, "title": "Brouillon secret", "domain": "logement"}
    )
    # A seeded opportunity edited, one paused, one closing soon, one full.
    seeded = list(
        session.scalars(
            select(Opportunity)
            .where(
                Opportunity.territory_id == cp.territory_id,
                Opportunity.domain_code == "logement",
            )
            .order_by(Opportunity.id)
        )
    )
    assert len(seeded) >= 1
    edited = seeded[0]
    opportunities.update_opportunity(
        session, cp, edited.id, {"capacity": edited.capacity + 2}, version=edited.version
    )
    partner_b = services.create_partner(
        session, cp, {"name": "Résidence Les Acacias", "kind": "hebergement", "town": "Lyon"}
    )
    closing = opportunities.create_opportunity(
        session,
        cp,
        {
            "partner_id": partner_b.id,
            "title": "Places d'urgence d'hiver",
            "domain": "hebergement",
            "valid_until": clock.today() + timedelta(days=10),
        },
    )
    opportunities.transition_opportunity(session, cp, closing.id, "publish")
    paused = opportunities.create_opportunity(
        session, cp, {"partner_id": partner_b.id, "title": "Chambres en colocation", "domain": "hebergement"}
    )
    factories.opportunity(
        session,
        partner_id=partner_b.id,
        territory_id=cp.territory_id,
        title="Pension de famille",
        capacity=1,
        places_taken=1,
        domain_code="hebergement",
    )
    # Referrals to the landlord: two sent, one answered.
    person = factories.participant(session)
    other = factories.participant(session, first_name="Alix", last_name="Autre")
    for who, answered in ((person, True), (other, False)):
        referral = factories.referral(
            session, participant_id=who.id, opportunity_id=fresh.id, state=ReferralState.SENT
        )
        session.add(
            ReferralTransition(
                referral_id=referral.id,
                action="validate",
                from_state=ReferralState.SUBMITTED,
                to_state=ReferralState.SENT,
                actor_id=cp.id,
            )
        )
        if answered:
            session.add(
                ReferralTransition(
                    referral_id=referral.id,
                    action="partner_accept",
                    from_state=ReferralState.SENT,
                    to_state=ReferralState.ACCEPTED,
                    actor_id=cp.id,
                )
            )
    session.flush()
    # A previously published opportunity paused since the last meeting.
    opportunities.transition_opportunity(session, cp, paused.id, "publish")
    opportunities.transition_opportunity(session, cp, paused.id, "pause")

    meeting = meetings.create_meeting(
        session,
        cp,
        "lyon",
        {
            "held_at": utcnow() + timedelta(days=7),
            "title": "Réunion de mutualisation de juin",
            "attendee_ids": [cp.id],
        },
    )
    agenda = meetings.meeting_agenda(session, demo_user("coordinator"), meeting.id)
    titles = [item.title for item in agenda.items]
    assert "Nouvelle opportunité : Logement passerelle" in titles
    assert "Nouvelle opportunité : Places d'urgence d'hiver" in titles
    assert not any("Brouillon secret" in title for title in titles)
    assert f"Opportunité modifiée : {edited.title}" in titles
    assert "Opportunité bientôt close : Places d'urgence d'hiver" in titles
    assert "Opportunité complète : Pension de famille" in titles
    assert "Nouveaux partenaires (1)" in titles
    # The paused opportunity was both published and paused in the period: it is news, shown as new.
    assert "Nouvelle opportunité : Chambres en colocation" in titles
    edited_item = next(item for item in agenda.items if item.title.startswith("Opportunité modifiée"))
    assert edited_item.subject == {
        "kind": "opportunity",
        "id": edited.id,
        "change": "edited",
        "fields": ["capacity"],
    }
    assert "nombre de places" in edited_item.body
    stats = next(item for item in agenda.items if item.subject.get("kind") == "referral_stats")
    row = next(line for line in stats.subject["partners"] if line["partner_id"] == landlord.id)
    assert (row["created"], row["sent"], row["answered"], row["answer_rate"]) == (2, 2, 1, 0.5)
    assert "taux de réponse 50 %" in stats.body
    assert [item.position for item in agenda.items] == list(range(1, len(agenda.items) + 1))
    assert {item.source for item in agenda.items} == {AgendaItemSource.BUILT}
    assert agenda.period.previous is not None


def test_added_points_survive_a_rebuild(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    previous_meeting(session, cp)
    meeting = meetings.create_meeting(
        session, cp, "lyon", {"held_at": utcnow() + timedelta(days=7), "title": "Réunion de mutualisation"}
    )
    assert meeting.agenda_items == []
    meetings.add_agenda_item(
        session, cp, meeting.id, {"title": "Tour de table des CIP", "body": "Situations à partager"}
    )
    opportunity = opportunities.create_opportunity(
        session, cp, {"partner_id": landlord.id, "title": "Bail glissant", "domain": "logement"}
    )
    opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    meetings.rebuild_agenda(session, cp, meeting.id)
    agenda = meetings.meeting_agenda(session, cp, meeting.id)
    assert [(item.position, item.source, item.title) for item in agenda.items] == [
        (1, AgendaItemSource.BUILT, "Nouvelle opportunité : Bail glissant"),
        (2, AgendaItemSource.ADDED, "Tour de table des CIP"),
    ]
    meetings.update_meeting(
        session, cp, meeting.id, {"minutes": "Le bailleur présentera son offre en juillet."}
    )
    assert meeting.minutes == "Le bailleur présentera son offre en juillet."


def test_meetings_are_prepared_by_the_territory_cps(session: Session, demo_user) -> None:
    with pytest.raises(PermissionDenied):
        meetings.create_meeting(
            session, demo_user("coordinator"), "lyon", {"held_at": utcnow(), "title": "X"}
        )
    with pytest.raises(NotFound):
        meetings.create_meeting(
            session, demo_user("cp_logement"), "paris", {"held_at": utcnow(), "title": "X"}
        )
    with pytest.raises(InvalidInput) as refusal:
        meetings.create_meeting(
            session,
            demo_user("cp_logement"),
            "lyon",
            {"held_at": utcnow(), "title": "X", "attendee_ids": [999999]},
        )
    assert "attendee_ids" in refusal.value.errors


KEY = b"k" * 32


def slot(session: Session, cp, *, days: int = 2) -> OfficeHour:
    start = utcnow().replace(microsecond=0) + timedelta(days=days)
    return office_hours.publish_office_hour(
        session, cp, {"starts_at": start, "ends_at": start + timedelta(minutes=45), "place": "Local du CP"}
    )


def test_a_cip_books_a_slot_and_the_cp_sees_a_pseudonym(session: Session, demo_user) -> None:
    cp, cip = demo_user("cp_logement"), demo_user("cip")
    opened = slot(session, cp)
    person = factories.participant(session, first_name="Émile", last_name="Zorba")
    office_hours.book_office_hour(
        session, cip, opened.id, {"participant_id": person.id, "topic": "Dossier DALO"}
    )

    cp_view = office_hours.office_hour_view(session, cp, opened.id, pseudonym_key=KEY)
    assert not cp_view.participant_named
    assert cp_view.participant_label.startswith("É. Z. · ")
    assert "Zorba" not in cp_view.participant_label
    assert cp_view.participant_label == office_hours.pseudonym(person, KEY)  # the same code every time
    assert (
        office_hours.office_hour_view(session, cip, opened.id, pseudonym_key=KEY).participant_label
        == "Émile Zorba"
    )
    coordinator_view = office_hours.list_office_hours(
        session, demo_user("coordinator"), "lyon", pseudonym_key=KEY
    )
    assert all("Zorba" not in (view.participant_label or "") for view in coordinator_view)

    # With a consent to share their situation with CPs on that day, the CP sees the name.
    session.add(
        Consent(
            participant_id=person.id,
            recipient=ConsentRecipient.CP,
            data_category=DataCategory.SITUATION,
            given_on=clock.today(),
        )
    )
    session.flush()
    named = office_hours.office_hour_view(session, cp, opened.id, pseudonym_key=KEY)
    assert named.participant_named
    assert named.participant_label == "Émile Zorba"


def test_a_slot_is_booked_once(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    opened = slot(session, cp)
    first = factories.participant(session)
    other_cip = demo_user("cip_other")
    other_person = factories.participant(
        session, structure_id=other_cip.structure_id, first_name="Lou", last_name="Ailleurs"
    )
    office_hours.book_office_hour(session, demo_user("cip"), opened.id, {"participant_id": first.id})
    with pytest.raises(OfficeHourUnavailable):
        office_hours.book_office_hour(session, other_cip, opened.id, {"participant_id": other_person.id})
    # A CIP books about their own structure's people only.
    second = slot(session, cp, days=3)
    with pytest.raises(InvalidInput):
        office_hours.book_office_hour(
            session, demo_user("cip"), second.id, {"participant_id": other_person.id}
        )


def test_office_hour_rules(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    opened = slot(session, cp)
    with pytest.raises(OfficeHourUnavailable):
        slot(session, cp)  # the same time again
    with pytest.raises(OfficeHourUnavailable):
        office_hours.record_office_hour_notes(session, cp, opened.id, "Trop tôt")
    with pytest.raises(PermissionDenied):
        office_hours.publish_office_hour(
            session, demo_user("cip"), {"starts_at": opened.starts_at, "ends_at": opened.ends_at}
        )
    past = OfficeHour(
        territory_id=cp.territory_id,
        cp_id=cp.id,
        starts_at=utcnow() - timedelta(hours=2),
        ends_at=utcnow() - timedelta(hours=1),
    )
    session.add(past)
    session.flush()
    office_hours.record_office_hour_notes(session, cp, past.id, "Orientation vers le CHRS à prévoir.")
    assert past.notes_after == "Orientation vers le CHRS à prévoir."
    with pytest.raises(OfficeHourUnavailable):
        office_hours.book_office_hour(
            session, demo_user("cip"), past.id, {"participant_id": factories.participant(session).id}
        )


def test_workshops(session: Session, demo_user) -> None:
    cp = demo_user("cp_sante")
    workshop = workshops.create_workshop(
        session,
        cp,
        {
            "held_on": clock.today() - timedelta(days=3),
            "theme": "Ouvrir ses droits à la CSS",
            "audience": "salaries",
            "domain": "acces_droits",
            "attendance_count": 12,
        },
    )
    assert workshop in workshops.list_workshops(session, demo_user("coordinator"), "lyon")
    with pytest.raises(InvalidInput) as refusal:
        workshops.create_workshop(
            session,
            cp,
            {
                "held_on": clock.today() + timedelta(days=3),
                "theme": "À venir",
                "audience": "tous",
                "domain": "logement",
                "attendance_count": 4,
            },
        )
    assert set(refusal.value.errors) == {"audience", "domain", "attendance_count"}
    workshops.update_workshop(session, cp, workshop.id, {"attendance_count": 14})
    assert workshop.attendance_count == 14
