"""A territory's ecosystem is built once per worker while its data stays the same (issue 20):
the second page reads a handful of statements instead of the whole network, any change to what
it shows is seen at the next call, and the scope is still checked at every call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from referral.ecosystem import cache, services
from referral.ecosystem.exceptions import EcosystemRefused
from referral.ecosystem.services import NetworkFilter
from referral.exceptions import NotFound
from referral.partners.models import DeploymentStatus, Partner, PartnerTerritory
from referral.referrals.models import Referral, ReferralState
from referral.territories.queries import user_by_email
from tests.ecosystem import territory_data
from tests.ecosystem.territory_data import Clairval
from tests.helpers import DEMO


@pytest.fixture
def clairval(session: Session) -> Clairval:
    return territory_data.build(session)


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    sent: list[str] = []

    def spy(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", spy)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", spy)


def test_the_second_call_reuses_the_built_ecosystem(session: Session, clairval: Clairval) -> None:
    with counted(session) as first:
        built = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    with counted(session) as second:
        again = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    assert again is built
    # Scope and filter checks only (the data version is trusted for a second).
    assert len(second) <= 2 < len(first)
    cache.ECOSYSTEMS.check_now()
    with counted(session) as checked:
        assert services.territory_ecosystem(session, clairval.coordinator, "clairval") is built
    assert len(checked) <= 5 < len(first)


def test_each_filter_and_day_is_kept_apart(session: Session, clairval: Clairval) -> None:
    whole = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    sante = services.territory_ecosystem(
        session, clairval.coordinator, "clairval", NetworkFilter(domain="sante")
    )
    assert sante is not whole
    assert sante.graph.number_of_nodes() < whole.graph.number_of_nodes()
    assert (
        services.territory_ecosystem(session, clairval.coordinator, "clairval", NetworkFilter(domain="sante"))
        is sante
    )
    other_day = services.territory_ecosystem(
        session, clairval.coordinator, "clairval", today=date(2026, 1, 5)
    )
    assert other_day is not whole


def test_a_change_is_seen_at_the_next_call(session: Session, clairval: Clairval) -> None:
    before = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    nodes = before.graph.number_of_nodes()
    partner = Partner(name="Épicerie solidaire de Clairval", kind="association", town="Clairval")
    session.add(partner)
    session.flush()
    session.add(
        PartnerTerritory(
            partner_id=partner.id, territory_id=clairval.territory.id, status=DeploymentStatus.DEPLOYED
        )
    )
    session.flush()
    after = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    assert after is not before
    assert after.graph.number_of_nodes() == nodes + 1


def test_a_referral_move_changes_the_figures(session: Session, clairval: Clairval) -> None:
    before = services.territory_ecosystem(session, clairval.coordinator, "clairval").analytics.summary
    referred = set(
        session.scalars(
            select(Referral.participant_id).where(Referral.opportunity_id == clairval.emploi_opportunity.id)
        )
    )
    person = next(person for person in clairval.people if person.id not in referred)
    territory_data._referral(
        session,
        person,
        clairval.emploi_opportunity,
        date(2026, 3, 2),
        [(ReferralState.SENT, date(2026, 3, 3))],
    )
    session.flush()
    after = services.territory_ecosystem(session, clairval.coordinator, "clairval").analytics.summary
    assert after != before


def test_the_scope_is_checked_at_every_call(session: Session, clairval: Clairval) -> None:
    services.territory_ecosystem(session, clairval.coordinator, "clairval")
    cip = user_by_email(session, DEMO["cip"])
    lyon_coordinator = user_by_email(session, DEMO["coordinator"])
    with pytest.raises(EcosystemRefused):
        services.territory_ecosystem(session, cip, "clairval")
    with pytest.raises(NotFound):
        services.territory_ecosystem(session, lyon_coordinator, "clairval")


def test_the_picture_is_drawn_once_per_kind_of_links(session: Session, clairval: Clairval) -> None:
    ecosystem = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    page = ecosystem.svg(lambda node: f"#{node}", kept_as="page")
    assert ecosystem.svg(lambda node: "ignored", kept_as="page") is page
    assert ecosystem.svg(lambda node: f"/file#{node}", kept_as="file") != page


def test_the_api_data_is_built_once_per_kept_ecosystem(session: Session, clairval: Clairval) -> None:
    coordinator = clairval.coordinator
    graph = services.territory_node_link(session, coordinator, "clairval")
    assert services.territory_node_link(session, coordinator, "clairval") is graph
    first = services.territory_analytics(session, coordinator, "clairval")
    second = services.territory_analytics(session, coordinator, "clairval")
    assert first == second
    assert first["coverage_gaps"] is second["coverage_gaps"]
