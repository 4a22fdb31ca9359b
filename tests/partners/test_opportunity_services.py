"""Opportunities through the services: drafts, the states table, history, optimistic locking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.exceptions import InvalidInput, NotFound, PermissionDenied
from referral.partners import opportunities, search
from referral.partners.exceptions import OpportunityTransitionRefused, OutsideYourDomains, StaleVersion
from referral.partners.models import Opportunity, OpportunityRevision, OpportunityStatus, Partner


@pytest.fixture
def landlord(session: Session) -> Partner:
    return session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))


def new_opportunity(session: Session, cp, partner: Partner, **values) -> Opportunity:
    payload = {
        "partner_id": partner.id,
        "title": "Bail glissant pour deux salarié·es",
        "domain": "logement",
        "subtypes": ["logement.intermediaire"],
        "capacity": 2,
        "criteria": [
            {"field": "housing_status", "op": "in", "value": ["chu", "chrs"], "hard": True, "weight": 1},
            {"field": "months_in_programme", "op": "gte", "value": 6, "hard": False, "weight": 2},
        ],
    }
    payload.update(values)
    return opportunities.create_opportunity(session, cp, payload)


def test_a_cp_writes_a_draft_with_criteria(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord)
    assert opportunity.status is OpportunityStatus.DRAFT
    assert opportunity.territory_id == cp.territory_id
    assert opportunity.version == 1
    assert [(c.field, c.op, c.value, c.hard, c.weight) for c in opportunity.criteria] == [
        ("housing_status", "in", ["chu", "chrs"], True, 1.0),
        ("months_in_programme", "gte", 6, False, 2.0),
    ]
    # A draft is for the territory's staff only.
    with pytest.raises(NotFound):
        opportunities.get_opportunity(session, demo_user("cip"), opportunity.id)
    assert opportunities.get_opportunity(session, demo_user("coordinator"), opportunity.id) is opportunity


def test_criteria_are_checked_against_the_registry(session: Session, demo_user, landlord: Partner) -> None:
    with pytest.raises(InvalidInput) as refusal:
        new_opportunity(
            session,
            demo_user("cp_logement"),
            landlord,
            criteria=[
                {"field": "housing_status", "op": "gte", "value": "chu"},
                {"field": "age", "op": "between", "value": [60, 18]},
                {"field": "housing_status", "op": "in", "value": ["chateau"]},
                {"field": "age", "op": "gte", "value": 18, "weight": 12},
            ],
        )
    errors = refusal.value.errors
    assert errors["criteria.0"] == [
        "L'opérateur « au moins » ne s'applique pas au champ « Situation de logement »."
    ]
    assert errors["criteria.1"] == ["« Âge » : le minimum dépasse le maximum."]
    assert errors["criteria.2"] == ["« Situation de logement » : valeur(s) inconnue(s) « chateau »."]
    assert errors["criteria.3.weight"] == ["Le poids est compris entre 0 et 10."]


def test_a_cp_acts_in_their_domains_only(session: Session, demo_user, landlord: Partner) -> None:
    with pytest.raises(OutsideYourDomains) as refusal:
        new_opportunity(session, demo_user("cp_sante"), landlord)
    assert "Logement" in refusal.value.message
    opportunity = new_opportunity(session, demo_user("cp_logement"), landlord)
    with pytest.raises(OutsideYourDomains):
        opportunities.transition_opportunity(session, demo_user("cp_sante"), opportunity.id, "publish")
    with pytest.raises(PermissionDenied):
        opportunities.transition_opportunity(session, demo_user("coordinator"), opportunity.id, "publish")


def test_the_states_table(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord)
    with pytest.raises(OpportunityTransitionRefused) as refusal:
        opportunities.transition_opportunity(session, cp, opportunity.id, "pause")
    assert refusal.value.message == (
        "Cette opportunité est à l'état « Brouillon » : elle ne peut pas être suspendue. "
        "Seule une opportunité à l'état « Publiée » peut l'être."
    )
    assert opportunity.status is OpportunityStatus.DRAFT

    opportunities.transition_opportunity(session, cp, opportunity.id, "publish", version=1)
    assert opportunity.status is OpportunityStatus.PUBLISHED
    first_published = opportunity.published_at
    assert first_published is not None
    assert opportunity in opportunities.list_opportunities(session, demo_user("cip"))

    opportunities.transition_opportunity(session, cp, opportunity.id, "pause")
    assert opportunity.status is OpportunityStatus.PAUSED
    opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    assert opportunity.published_at == first_published  # « new » once: republishing is not news
    opportunities.transition_opportunity(session, cp, opportunity.id, "close")
    assert opportunity.status is OpportunityStatus.CLOSED
    for action in ("publish", "pause", "close"):
        with pytest.raises(OpportunityTransitionRefused):
            opportunities.transition_opportunity(session, cp, opportunity.id, action)
    with pytest.raises(OpportunityTransitionRefused):
        opportunities.update_opportunity(
            session, cp, opportunity.id, {"capacity": 5}, version=opportunity.version
        )
    assert opportunity.version == 5


def test_an_expired_opportunity_is_not_published(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(
        session,
        cp,
        landlord,
        valid_from=clock.today() - timedelta(days=60),
        valid_until=clock.today() - timedelta(days=1),
    )
    with pytest.raises(OpportunityTransitionRefused) as refusal:
        opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    assert "fin de validité est passée" in refusal.value.message
    assert opportunity.status is OpportunityStatus.DRAFT


def test_editing_a_published_opportunity_keeps_its_history(
    session: Session, demo_user, landlord: Partner
) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord)
    opportunities.update_opportunity(session, cp, opportunity.id, {"capacity": 3}, version=1)
    assert opportunity.revisions == []  # a draft has no history: nobody relied on it
    opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    version = opportunity.version
    opportunities.update_opportunity(
        session,
        cp,
        opportunity.id,
        {
            "capacity": 4,
            "criteria": [{"field": "housing_status", "op": "in", "value": ["chu", "chrs", "rue"]}],
            "title": opportunity.title,  # unchanged: not reported
        },
        version=version,
    )
    assert opportunity.version == version + 1
    session.expire(opportunity, ["revisions"])
    edit = opportunity.revisions[-1]
    assert edit.version == version
    assert edit.snapshot["action"] == "edit"
    assert edit.snapshot["changed"] == ["capacity", "criteria"]
    assert edit.snapshot["state"]["capacity"] == 3
    assert edit.snapshot["state"]["criteria"][0]["value"] == ["chu", "chrs"]

    history = opportunities.opportunity_history(session, demo_user("coordinator"), opportunity.id)
    assert [(line.action_label, line.changed_labels) for line in history] == [
        ("Modifiée", ["nombre de places", "critères d'orientation"])
    ]
    assert history[0].revised_by == cp.full_name


def test_an_unchanged_edit_writes_nothing(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord)
    opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    opportunities.update_opportunity(
        session, cp, opportunity.id, {"capacity": opportunity.capacity}, version=opportunity.version
    )
    assert opportunity.version == 2
    assert (
        session.scalars(
            select(OpportunityRevision).where(OpportunityRevision.opportunity_id == opportunity.id)
        ).all()
        == []
    )


def test_a_stale_version_is_refused_and_changes_nothing(
    session: Session, demo_user, landlord: Partner
) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord)
    opportunities.update_opportunity(session, cp, opportunity.id, {"capacity": 3}, version=1)
    with pytest.raises(StaleVersion) as refusal:
        opportunities.update_opportunity(session, cp, opportunity.id, {"capacity": 9}, version=1)
    assert refusal.value.status == 409
    assert refusal.value.extra == {"current_version": 2}
    session.expire_all()
    stored = session.get(Opportunity, opportunity.id)
    assert (stored.capacity, stored.version) == (3, 2)


def test_capacity_cannot_go_below_the_places_taken(session: Session, demo_user, landlord: Partner) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord, capacity=3)
    opportunity.places_taken = 2
    session.flush()
    with pytest.raises(InvalidInput) as refusal:
        opportunities.update_opportunity(
            session, cp, opportunity.id, {"capacity": 1}, version=opportunity.version
        )
    assert refusal.value.errors["capacity"] == [
        "2 place(s) sont déjà prises : la capacité ne peut pas descendre en dessous."
    ]


def test_a_national_opportunity_is_not_edited_by_a_local_cp(session: Session, demo_user) -> None:
    national = session.scalar(
        select(Opportunity)
        .join(Opportunity.partner)
        .where(Partner.key == "cdc-habitat-lyon", Opportunity.territory_id.is_(None))
        .order_by(Opportunity.id)
    )
    if national is None:
        pytest.skip("no national opportunity without a territory in the seeds")
    with pytest.raises(PermissionDenied):
        opportunities.update_opportunity(
            session, demo_user("cp_logement"), national.id, {"capacity": 9}, version=1
        )


def test_search_finds_opportunities_by_title_and_partner(
    session: Session, demo_user, landlord: Partner
) -> None:
    cp = demo_user("cp_logement")
    opportunity = new_opportunity(session, cp, landlord, title="Colocation solidaire à Gerland")
    hits = search.search_opportunities(session, cp, "colocaton gerland")
    assert hits[0].id == opportunity.id
    assert hits[0].partner_name == landlord.name
    # A CIP only finds what is published.
    assert opportunity.id not in {
        hit.id for hit in search.search_opportunities(session, demo_user("cip"), "colocation")
    }
    opportunities.transition_opportunity(session, cp, opportunity.id, "publish")
    assert opportunity.id in {
        hit.id for hit in search.search_opportunities(session, demo_user("cip"), "colocation")
    }


def test_seeding_an_opportunity_again_claims_a_version_only_when_its_criteria_or_subtypes_change(
    session: Session,
) -> None:
    """Criteria and subtypes live in other tables: the new version is what shows the change to a
    CP editing the opportunity and to other workers' matching indexes."""
    from referral.partners.opportunities import ensure_opportunity
    from referral.partners.services import ensure_partner

    partner = ensure_partner(
        session, key="seed-test", name="Partenaire semé", kind="association", territories=[]
    )
    values = {
        "key": "seed-test-opportunity",
        "partner": partner,
        "title": "Offre semée",
        "domain": "logement",
        "criteria": [{"field": "programme", "op": "eq", "value": "CVG"}],
    }
    opportunity = ensure_opportunity(session, **values)
    assert opportunity.version == 1
    assert ensure_opportunity(session, **values).version == 1  # nothing changed
    narrowed = {**values, "criteria": [{"field": "programme", "op": "eq", "value": "PHC"}]}
    assert ensure_opportunity(session, **narrowed).version == 2
    assert ensure_opportunity(session, **narrowed, subtypes=["logement.social"]).version == 3
    assert ensure_opportunity(session, **narrowed, subtypes=["logement.social"]).version == 3
