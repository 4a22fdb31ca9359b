"""Proposals through the API: ranked and explained for a CIP's own people; reverse matching
shows counts to staff and only their own people to a CIP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.exceptions import ParticipantNotFound
from referral.cases.models import HealthRecord, NeedStatus, Participant
from referral.partners.models import Criterion
from referral.referrals import matching_index
from referral.referrals.models import ReferralState
from referral.territories.models import User
from tests import factories
from tests.helpers import DEMO


def test_proposals_are_ranked_explained_and_in_scope(client: FlaskClient, session: Session, bearer) -> None:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, programme="CVG", housing_status="rue", entered_on=clock.today() - timedelta(days=120)
    )
    factories.need(session, participant_id=person.id, domain_code="logement", priority=1)
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Logement d'abord"
    )
    blocked = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Réservé PHC"
    )
    session.add(Criterion(opportunity_id=blocked.id, field="programme", op="eq", value="PHC", hard=True))
    session.commit()
    matching_index.forget_index()

    body = client.get(f"/api/v1/participants/{person.id}/proposals", headers=bearer("cip")).get_json()
    eligible_ids = [p["opportunity_id"] for p in body["eligible"]]
    assert opportunity.id in eligible_ids
    assert blocked.id not in eligible_ids
    mine = next(p for p in body["eligible"] if p["opportunity_id"] == opportunity.id)
    assert set(mine) >= {
        "opportunity_id",
        "opportunity_title",
        "partner_id",
        "partner_name",
        "domain",
        "score",
        "breakdown",
        "reasons",
        "flags",
    }
    assert 0 <= mine["score"] <= 1
    assert abs(sum(mine["breakdown"].values()) - mine["score"]) < 1e-6
    assert all(isinstance(reason, str) for reason in mine["reasons"])
    scores = [p["score"] for p in body["eligible"]]
    assert scores == sorted(scores, reverse=True)
    near = next(p for p in body["near_misses"] if p["opportunity_id"] == blocked.id)
    assert near["blocking"]
    # Another structure's CIP, a CP, a coordinator: not their record.
    for role in ("cip_other", "cp_logement", "coordinator"):
        assert client.get(
            f"/api/v1/participants/{person.id}/proposals", headers=bearer(role)
        ).status_code in (403, 404)


def test_reverse_matching_counts_for_staff_people_for_their_cip(
    client: FlaskClient, session: Session, bearer
) -> None:
    lyon = factories.territory(session, "lyon")
    own = factories.structure(session, key="fndsa-lyon")
    other = factories.structure(session, key="demo-lyon-2")
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Pour tout le monde"
    )
    mine = factories.participant(session, structure_id=own.id, last_name="Mienne", programme="CVG")
    theirs = factories.participant(session, structure_id=other.id, last_name="Autrui", programme="CVG")
    session.commit()
    matching_index.forget_index()

    staff = client.get(
        f"/api/v1/opportunities/{opportunity.id}/matches", headers=bearer("cp_logement")
    ).get_json()
    assert staff["participants"] is None
    counts = {row["structure_id"]: row["count"] for row in staff["by_structure"]}
    assert counts[own.id] >= 1
    assert counts[other.id] >= 1
    assert "Mienne" not in str(staff)
    assert "Autrui" not in str(staff)

    cip = client.get(f"/api/v1/opportunities/{opportunity.id}/matches", headers=bearer("cip")).get_json()
    ids = {person["id"] for person in cip["participants"]}
    assert mine.id in ids
    assert theirs.id not in ids
    assert {row["structure_id"] for row in cip["by_structure"]} == {own.id}


def _user(session: Session, role: str) -> User:
    return session.scalars(select(User).where(User.email == DEMO[role])).one()


def test_request_snapshot_reads_the_record_as_the_loaded_record_does(session: Session) -> None:
    """The hot path reads the person in one bound statement; it must see exactly what the
    snapshot built from the full ORM record sees: open needs only, best priority first, the
    hours of current contracts only, no hours at all without a contract, RQTH when recorded."""
    today = date(2026, 11, 23)
    followed = factories.participant(session, last_name="Suivie", driving_licence=True, language_level="b1")
    factories.need(session, participant_id=followed.id, domain_code="sante", priority=2)
    factories.need(session, participant_id=followed.id, domain_code="logement", priority=1)
    factories.need(
        session,
        participant_id=followed.id,
        domain_code="emploi",
        status=NeedStatus.RESOLVED,
        resolved_on=date(2026, 3, 1),
    )
    factories.contract(session, participant_id=followed.id, weekly_hours=12, starts_on=date(2026, 1, 5))
    factories.contract(
        session,
        participant_id=followed.id,
        weekly_hours=20,
        starts_on=date(2025, 1, 6),
        ends_on=date(2025, 12, 31),
    )
    session.add(HealthRecord(participant_id=followed.id, rqth=True))
    no_contract = factories.participant(session, last_name="Sans contrat")
    contract_ended = factories.participant(session, last_name="Contrat fini")
    factories.contract(
        session,
        participant_id=contract_ended.id,
        starts_on=date(2025, 1, 6),
        ends_on=date(2026, 6, 30),
    )
    session.commit()
    cip = _user(session, "cip")

    fast = {}
    for person in (followed, no_contract, contract_ended):
        record = session.get(Participant, person.id)
        session.refresh(record)
        territory_id = record.structure.territory_id
        fast[person.id] = matching_index.load_participant_snapshot(session, cip, person.id, today)
        assert fast[person.id] == matching_index.participant_snapshot(record, territory_id, today)

    assert [need.domain for need in fast[followed.id].needs] == ["logement", "sante"]
    assert fast[followed.id].weekly_hours == 12
    assert fast[followed.id].rqth is True
    assert fast[no_contract.id].weekly_hours is None
    assert fast[no_contract.id].needs == ()
    assert fast[contract_ended.id].weekly_hours == 0


def test_request_snapshot_refuses_what_the_actor_may_not_open(session: Session) -> None:
    person = factories.participant(session)
    session.commit()
    today = date(2026, 11, 23)
    assert (
        matching_index.load_participant_snapshot(session, _user(session, "cip"), person.id, today).id
        == person.id
    )
    for role in ("cip_other", "cp_logement", "coordinator", "admin"):
        with pytest.raises(ParticipantNotFound):
            matching_index.load_participant_snapshot(session, _user(session, role), person.id, today)
    with pytest.raises(ParticipantNotFound):
        matching_index.load_participant_snapshot(session, _user(session, "cip"), person.id + 10_000, today)


def test_referral_history_lists_referrals_and_refusals_by_partner(session: Session) -> None:
    person = factories.participant(session)
    refused_opportunity = factories.opportunity(session, domain_code="logement", title="Refusée")
    pending_opportunity = factories.opportunity(session, domain_code="sante", title="En cours")
    factories.referral(
        session, participant_id=person.id, opportunity_id=refused_opportunity.id, state=ReferralState.REFUSED
    )
    factories.referral(session, participant_id=person.id, opportunity_id=pending_opportunity.id)
    session.commit()

    history = matching_index.referral_history(session, person.id)

    assert history.referred_opportunity_ids == {refused_opportunity.id, pending_opportunity.id}
    assert [partner for partner, _day in history.refusals] == [refused_opportunity.partner_id]
    assert (
        matching_index.referral_history(session, person.id + 10_000).referred_opportunity_ids == frozenset()
    )


def test_opportunity_snapshots_read_what_the_records_say(session: Session) -> None:
    """The index is built from plain rows; they must say what the ORM records say: published
    opportunities only, criteria and subtypes in their order, places left, a national partner's opportunity
    in every territory where it is deployed (not where it is only discussed)."""
    from referral.partners.models import DeploymentStatus, OpportunityStatus, PartnerTerritory
    from referral.reference.models import DomainSubtype

    lyon = factories.territory(session, "lyon")
    paris = factories.territory(session, "paris")
    marseille = factories.territory(session, "marseille")
    national = factories.partner(session, name="Réseau national de test")
    for territory, status in ((lyon, DeploymentStatus.DEPLOYED), (paris, DeploymentStatus.DEPLOYED)):
        session.add(PartnerTerritory(partner_id=national.id, territory_id=territory.id, status=status))
    session.add(
        PartnerTerritory(
            partner_id=national.id, territory_id=marseille.id, status=DeploymentStatus.IN_DISCUSSION
        )
    )
    everywhere = factories.opportunity(
        session, partner_id=national.id, title="Partout", capacity=5, places_taken=2, tags=["sans cv"]
    )
    session.add_all(
        [
            Criterion(opportunity_id=everywhere.id, position=1, field="age", op="gte", value=18, hard=True),
            Criterion(
                opportunity_id=everywhere.id,
                position=0,
                field="programme",
                op="in",
                value=["CVG"],
                hard=False,
            ),
        ]
    )
    codes = session.scalars(
        select(DomainSubtype).where(DomainSubtype.domain_code == "logement").order_by(DomainSubtype.position)
    ).all()
    everywhere.subtypes = [codes[2], codes[0]]
    local = factories.opportunity(session, territory_id=lyon.id, title="Locale")
    draft = factories.opportunity(session, territory_id=lyon.id, status=OpportunityStatus.DRAFT)
    unplaced = factories.opportunity(session, partner_id=factories.partner(session, name="Nulle part").id)
    session.commit()

    snapshots = {
        opportunity.id: opportunity
        for opportunity in matching_index.opportunity_snapshots(session, clock.today())
    }

    assert draft.id not in snapshots
    assert unplaced.id not in snapshots
    assert snapshots[local.id].territory_ids == {lyon.id}
    opportunity = snapshots[everywhere.id]
    assert opportunity.territory_ids == {lyon.id, paris.id}
    assert opportunity.partner_name == "Réseau national de test"
    assert [(c.field, c.hard) for c in opportunity.criteria] == [("programme", False), ("age", True)]
    assert opportunity.criteria[0].value == ("CVG",)
    assert opportunity.subtypes == (codes[0].code, codes[2].code)
    assert (opportunity.capacity, opportunity.places_left, opportunity.tags) == (5, 3, ("sans cv",))
    assert opportunity.status == "published"


def test_reverse_matching_counts_the_people_followed_today_only(session: Session) -> None:
    """Gone (exit passed, no accompaniment after it) or anonymised: not counted. An exit still
    ahead, or an accompaniment that goes on after it: counted. Needs and contracts are read as
    the request's snapshot reads them."""
    from referral.cases.models import Exit

    today = clock.today()
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(session, territory_id=lyon.id, domain_code="logement")
    session.add(
        Criterion(
            opportunity_id=opportunity.id, position=0, field="has_need", op="has", value="logement", hard=True
        )
    )
    session.add(
        Criterion(
            opportunity_id=opportunity.id, position=1, field="weekly_hours", op="gte", value=10, hard=True
        )
    )

    def person(name: str, *, hours: float = 20, need: str = "logement") -> Participant:
        row = factories.participant(session, last_name=name)
        factories.need(session, participant_id=row.id, domain_code=need)
        factories.contract(
            session, participant_id=row.id, weekly_hours=hours, starts_on=today - timedelta(days=90)
        )
        return row

    def exit_of(row: Participant, days: int, *, continued: bool = False) -> None:
        session.add(
            Exit(
                participant_id=row.id,
                exited_on=today + timedelta(days=days),
                exit_type="emploi_durable",
                continued_accompaniment=continued,
            )
        )

    fits = person("Suivie")
    leaving = person("Sortie prochaine")
    exit_of(leaving, 10)
    accompanied = person("Accompagnée après sa sortie")
    exit_of(accompanied, -30, continued=True)
    gone = person("Partie")
    exit_of(gone, -30)
    anonymised = person("Anonymisée")
    anonymised.anonymised_at = datetime.now(UTC)
    few_hours = person("Peu d'heures", hours=4)
    other_need = person("Autre besoin", need="sante")
    session.commit()
    matching_index.forget_index()

    snapshots = matching_index.participant_snapshots(session, today, {lyon.id})
    seen = {snapshot.id for snapshot in snapshots}
    assert {fits.id, leaving.id, accompanied.id, few_hours.id, other_need.id} <= seen
    assert not {gone.id, anonymised.id} & seen

    cip = _user(session, "cip")
    own = matching_index.reverse_matches(session, cip, opportunity.id, today)
    assert {row.id for row in own.own_participants} >= {fits.id, leaving.id, accompanied.id}
    assert not {row.id for row in own.own_participants} & {
        gone.id,
        anonymised.id,
        few_hours.id,
        other_need.id,
    }
    staff = matching_index.reverse_matches(session, _user(session, "cp_logement"), opportunity.id, today)
    assert staff.own_participants is None
    assert staff.counts_by_structure[cip.structure_id] == own.total
