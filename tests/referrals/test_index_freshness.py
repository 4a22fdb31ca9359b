"""The cached matching index stays fresh: this process's commits are seen at the next call,
other processes' changes within `CHECK_EVERY_SECONDS`; only what changed is read again, and the
whole index is built from scratch only when it must be."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referral import clock
from referral.db import Database
from referral.partners import opportunities
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.referrals import matching_index
from referral.territories.models import User
from tests import factories
from tests.helpers import DEMO

TODAY = clock.today()


def _user(session: Session, role: str) -> User:
    return session.scalars(select(User).where(User.email == DEMO[role])).one()


def _indexed(session: Session) -> dict[int, object]:
    return {
        opportunity.id: opportunity
        for opportunity in matching_index.matching_index(session, TODAY).opportunities()
    }


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the builds from scratch; the index is then only refreshed unless this grows."""
    counted: list[int] = []
    build = matching_index.INDEX.build

    def counting(session, key):
        counted.append(1)
        return build(session, key)

    monkeypatch.setattr(matching_index.INDEX, "build", counting)
    return counted


def _as_another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes made with plain SQL leave no note in this process: only the version key shows
    them, which is read at every call once the trust delay is zero."""
    monkeypatch.setattr(matching_index.INDEX, "trust_seconds", 0.0)


def test_this_process_edits_are_seen_at_the_next_call_without_a_rebuild(
    db: Database, session: Session, builds
) -> None:
    """A commit point of this process (a request, a command, a job) notes the opportunities it changed;
    the next call reads them again at once, without waiting for the version check."""
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(session, territory_id=lyon.id, title="Avant")
    session.commit()
    assert _indexed(session)[opportunity.id].title == "Avant"
    assert len(builds) == 1

    with db.atomic() as work:
        opportunities.update_opportunity(
            work,
            _user(work, "cp_logement"),
            opportunity.id,
            {
                "title": "Après",
                "criteria": [{"field": "programme", "op": "eq", "value": "PHC", "hard": True}],
            },
            version=opportunity.version,
        )
    refreshed = _indexed(session)[opportunity.id]
    assert refreshed.title == "Après"
    assert [(c.field, c.value) for c in refreshed.criteria] == [("programme", "PHC")]

    with db.atomic() as work:
        opportunities.transition_opportunity(work, _user(work, "cp_logement"), opportunity.id, "pause")
    assert opportunity.id not in _indexed(session)
    assert len(builds) == 1


def test_a_rolled_back_change_is_not_noted(db: Database, session: Session) -> None:
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(session, territory_id=lyon.id, title="Avant")
    session.commit()
    _indexed(session)

    def failing_work() -> None:
        with db.atomic() as work:
            work.get(Opportunity, opportunity.id).title = "Jamais"
            work.flush()
            raise RuntimeError("la requête échoue")

    with pytest.raises(RuntimeError):
        failing_work()
    assert not any(noted.commits for noted in matching_index._changed_here.values())
    assert _indexed(session)[opportunity.id].title == "Avant"


def test_another_process_changes_are_seen_through_the_version_key(
    session: Session, builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_another_process(monkeypatch)
    lyon = factories.territory(session, "lyon")
    full = factories.opportunity(session, territory_id=lyon.id, capacity=3, places_taken=0)
    closing = factories.opportunity(session, territory_id=lyon.id, title="Bientôt close")
    untouched = factories.opportunity(session, territory_id=lyon.id, title="Son partenaire change de nom")
    session.commit()
    assert _indexed(session)[full.id].places_left == 3

    session.execute(
        update(Opportunity).where(Opportunity.id == full.id).values(places_taken=3),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Opportunity)
        .where(Opportunity.id == closing.id)
        .values(status=OpportunityStatus.CLOSED, version=Opportunity.version + 1),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Partner).where(Partner.id == untouched.partner_id).values(name="Nouveau nom du partenaire"),
        execution_options={"synchronize_session": False},
    )
    # Nothing noted by this process: the changes are another process's.
    matching_index._changed_here.clear()
    indexed = _indexed(session)
    assert indexed[full.id].places_left == 0
    assert indexed[untouched.id].partner_name == "Nouveau nom du partenaire"
    assert closing.id not in indexed

    session.execute(
        update(Opportunity)
        .where(Opportunity.id == closing.id)
        .values(status=OpportunityStatus.PUBLISHED, version=Opportunity.version + 1)
    )
    matching_index._changed_here.clear()
    assert closing.id in _indexed(session)
    assert len(builds) == 1


def test_a_new_deployment_builds_again_and_places_national_opportunities(
    session: Session, builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_another_process(monkeypatch)
    lyon = factories.territory(session, "lyon")
    paris = factories.territory(session, "paris")
    national = factories.partner(session, name="Réseau national")
    session.add(
        PartnerTerritory(partner_id=national.id, territory_id=lyon.id, status=DeploymentStatus.DEPLOYED)
    )
    opportunity = factories.opportunity(session, partner_id=national.id)
    session.commit()
    assert _indexed(session)[opportunity.id].territory_ids == {lyon.id}

    session.add(
        PartnerTerritory(partner_id=national.id, territory_id=paris.id, status=DeploymentStatus.DEPLOYED)
    )
    session.commit()
    assert _indexed(session)[opportunity.id].territory_ids == {lyon.id, paris.id}
    assert len(builds) == 2


def test_the_turn_of_the_hour_reads_every_figure_again(
    session: Session, builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recent referrals do not touch the opportunity's row: the hourly refresh brings them in."""
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(session, territory_id=lyon.id)
    person = factories.participant(session)
    session.commit()
    assert _indexed(session)[opportunity.id].recent_referrals == 0

    factories.referral(session, participant_id=person.id, opportunity_id=opportunity.id)
    assert _indexed(session)[opportunity.id].recent_referrals == 0  # trusted until the hour turns
    matching_index.check_index_now(hour_turned=True)
    assert _indexed(session)[opportunity.id].recent_referrals == 1
    assert len(builds) == 1


def test_proposals_follow_an_edit_without_forgetting_the_index(client, session: Session, bearer) -> None:
    """Through the API: a CP narrows an opportunity, the CIP's next proposals show it as a near miss."""
    lyon = factories.territory(session, "lyon")
    person = factories.participant(session, programme="CVG")
    opportunity = factories.opportunity(session, territory_id=lyon.id, title="Ouverte à tous")
    session.commit()

    def where() -> str:
        body = client.get(
            f"/api/v1/participants/{person.id}/proposals?limit=50", headers=bearer("cip")
        ).get_json()
        if opportunity.id in {p["opportunity_id"] for p in body["eligible"]}:
            return "eligible"
        if opportunity.id in {p["opportunity_id"] for p in body["near_misses"]}:
            return "near miss"
        return "absent"

    assert where() == "eligible"
    edited = client.patch(
        f"/api/v1/opportunities/{opportunity.id}",
        json={
            "version": opportunity.version,
            "criteria": [{"field": "programme", "op": "eq", "value": "PHC"}],
        },
        headers=bearer("cp_logement"),
    )
    assert edited.status_code == 200, edited.get_json()
    assert where() == "near miss"
