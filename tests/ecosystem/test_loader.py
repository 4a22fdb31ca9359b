"""The loader on a hand-built territory whose snapshot is worked out by hand (territory_data.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from referral.ecosystem import loader
from referral.network.snapshot import (
    CPPartnerLink,
    Deployment,
    DeploymentStatus,
    NetworkSnapshot,
    OpenNeeds,
    OpenPlaces,
    ReferralAggregate,
)
from referral.territories.queries import territory_by_slug
from tests.ecosystem import territory_data
from tests.ecosystem.territory_data import Clairval

TODAY = date(2026, 11, 20)


@pytest.fixture
def clairval(session: Session) -> Clairval:
    return territory_data.build(session)


@pytest.fixture
def snapshot(session: Session, clairval: Clairval) -> NetworkSnapshot:
    return loader.load_territory(session, clairval.territory, today=TODAY)


def test_structures_with_their_active_file(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert [(s.id, s.name, s.participants) for s in snapshot.structures] == [
        (
            clairval.alpha.id,
            "Chantier Alpha",
            4,
        ),  # the person out of the programme and the anonymised one do not count
        (clairval.beta.id, "Chantier Beta", 2),
    ]
    assert (snapshot.territory_slug, snapshot.territory_name) == ("clairval", "Clairval")


def test_partners_serving_the_territory_with_their_domains(
    snapshot: NetworkSnapshot, clairval: Clairval
) -> None:
    partners = {p.id: p for p in snapshot.partners}
    assert set(partners) == {clairval.sante.id, clairval.bailleur.id, clairval.franprix.id, clairval.vinci.id}
    assert partners[clairval.sante.id].domains == ("sante",)
    assert partners[clairval.bailleur.id].domains == ("logement",)
    # The national partner's opportunity has no territory: it is offered where the partner is deployed.
    assert partners[clairval.franprix.id].domains == ("emploi",)
    assert partners[clairval.franprix.id].national_network == "franprix"
    assert partners[clairval.vinci.id].domains == ()  # in discussion, no opportunity yet
    assert {n.code for n in snapshot.national_networks} == {"franprix", "vinci"}


def test_deployments_of_national_partnerships(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert set(snapshot.deployments) == {
        Deployment("franprix", clairval.franprix.id, "clairval", DeploymentStatus.DEPLOYED),
        Deployment("vinci", clairval.vinci.id, "clairval", DeploymentStatus.IN_DISCUSSION),
    }


def test_cps_follow_the_partners_of_their_domains(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert [(cp.id, cp.name, cp.domains) for cp in snapshot.cps] == [
        (clairval.cp.id, "Inès Cardinal", ("logement", "sante"))
    ]
    # Not Franprix: emploi is not one of her domains.
    assert set(snapshot.cp_links) == {
        CPPartnerLink(clairval.cp.id, clairval.sante.id),
        CPPartnerLink(clairval.cp.id, clairval.bailleur.id),
    }


def test_referral_aggregates_from_the_transitions(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert snapshot.referrals == (
        # 4 sent, all accepted; first answers after 2, 6 (waiting list first), 4 and 4 days.
        ReferralAggregate(
            clairval.alpha.id, clairval.sante.id, "sante", 4, accepted=4, answered=4, median_answer_days=4.0
        ),
        ReferralAggregate(
            clairval.beta.id,
            clairval.bailleur.id,
            "logement",
            1,
            accepted=0,
            answered=1,
            median_answer_days=10.0,
        ),
        ReferralAggregate(clairval.beta.id, clairval.franprix.id, "emploi", 1, accepted=0, answered=0),
    )
    # The draft Alpha → Bailleur never reached the partner: it is not there.


def test_the_period_filters_on_the_creation_date(session: Session, clairval: Clairval) -> None:
    period = loader.Period(date(2026, 1, 1), date(2026, 4, 1))
    snapshot = loader.load_territory(session, clairval.territory, period=period, today=TODAY)
    assert snapshot.referrals == (
        ReferralAggregate(
            clairval.alpha.id, clairval.sante.id, "sante", 3, accepted=3, answered=3, median_answer_days=4.0
        ),
    )
    assert (snapshot.period_start, snapshot.period_end) == (date(2026, 1, 1), date(2026, 4, 1))
    # Needs and places are today's, whatever the period.
    assert sum(n.count for n in snapshot.needs) == 5


def test_open_needs_by_structure_domain_and_subtype(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert snapshot.needs == (
        OpenNeeds(clairval.alpha.id, "langue", None, 2),
        OpenNeeds(clairval.alpha.id, "logement", "logement.social", 2),
        OpenNeeds(clairval.beta.id, "langue", None, 1),
    )


def test_open_places_per_published_opportunity(snapshot: NetworkSnapshot, clairval: Clairval) -> None:
    assert set(snapshot.places) == {
        OpenPlaces(clairval.sante_opportunity.id, clairval.sante.id, "sante", (), 2),
        OpenPlaces(
            clairval.logement_opportunity.id, clairval.bailleur.id, "logement", ("logement.social",), 1
        ),
        OpenPlaces(clairval.emploi_opportunity.id, clairval.franprix.id, "emploi", (), 2),
    }


def test_opportunities_out_of_their_validity_or_unpublished_have_no_places(
    session: Session, clairval: Clairval
) -> None:
    clairval.logement_opportunity.valid_until = date(2026, 6, 30)
    clairval.sante_opportunity.status = clairval.sante_opportunity.status.PAUSED
    session.flush()
    snapshot = loader.load_territory(session, clairval.territory, today=TODAY)
    assert {p.opportunity_id for p in snapshot.places} == {clairval.emploi_opportunity.id}
    # A paused opportunity still says the partner works in santé.
    assert {p.id: p.domains for p in snapshot.partners}[clairval.sante.id] == ("sante",)


def test_the_domain_filter(session: Session, clairval: Clairval) -> None:
    snapshot = loader.load_territory(session, clairval.territory, domains=("sante",), today=TODAY)
    assert [p.id for p in snapshot.partners] == [clairval.sante.id]
    assert [r.domain for r in snapshot.referrals] == ["sante"]
    assert snapshot.needs == ()
    assert snapshot.domain_filter == ("sante",)
    assert len(snapshot.structures) == 2  # every structure stays: doing nothing there is information


def test_no_participant_is_named_anywhere_in_the_snapshot(snapshot: NetworkSnapshot) -> None:
    text = repr(snapshot)
    for name in territory_data.every_name():
        assert name not in text


def test_other_territories_stay_out(snapshot: NetworkSnapshot, session: Session) -> None:
    # The demo Lyon network is in the same database: none of it is in Clairval's snapshot.
    assert all(p.name.endswith("Clairval") for p in snapshot.partners)
    lyon = territory_by_slug(session, "lyon")
    assert lyon is not None
    lyon_snapshot = loader.load_territory(session, lyon, today=TODAY)
    assert not {p.name for p in lyon_snapshot.partners} & {p.name for p in snapshot.partners}


def test_the_national_snapshot_and_deployments(session: Session, clairval: Clairval) -> None:
    national = loader.load_national(session, today=TODAY)
    assert national.territory_slug is None
    assert {clairval.alpha.id, clairval.beta.id} <= {s.id for s in national.structures}
    assert clairval.franprix.id in {p.id for p in national.partners}
    deployments = loader.load_deployments(session)
    assert (
        Deployment("vinci", clairval.vinci.id, "clairval", DeploymentStatus.IN_DISCUSSION)
        in deployments.deployments
    )
    assert "clairval" in {t.slug for t in deployments.territories}


def test_a_constant_number_of_queries(session: Session, clairval: Clairval) -> None:
    """No query per structure, partner or referral: adding rows adds no query."""
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("q")

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        loader.load_territory(session, clairval.territory, today=TODAY)
        before = len(statements)
        territory_data._participant(session, clairval.beta, 6)
        statements.clear()
        loader.load_territory(session, clairval.territory, today=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == before
    assert before <= 16
