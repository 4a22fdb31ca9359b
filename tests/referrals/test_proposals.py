"""Proposals through the API: ranked and explained for a CIP's own people; reverse matching
shows counts to staff and only their own people to a CIP."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.partners.models import Criterion
from referral.referrals import proposals
from tests import factories


def test_proposals_are_ranked_explained_and_in_scope(client: FlaskClient, session: Session, bearer) -> None:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, programme="CVG", housing_status="rue", entered_on=date.today() - timedelta(days=120)
    )
    factories.need(session, participant_id=person.id, domain_code="logement", priority=1)
    offer = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Logement d'abord"
    )
    blocked = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Réservé PHC"
    )
    session.add(Criterion(opportunity_id=blocked.id, field="programme", op="eq", value="PHC", hard=True))
    session.commit()
    proposals.forget_index()

    body = client.get(f"/api/v1/participants/{person.id}/proposals", headers=bearer("cip")).get_json()
    eligible_ids = [p["opportunity_id"] for p in body["eligible"]]
    assert offer.id in eligible_ids
    assert blocked.id not in eligible_ids
    mine = next(p for p in body["eligible"] if p["opportunity_id"] == offer.id)
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
    offer = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Pour tout le monde"
    )
    mine = factories.participant(session, structure_id=own.id, last_name="Mienne", programme="CVG")
    theirs = factories.participant(session, structure_id=other.id, last_name="Autrui", programme="CVG")
    session.commit()
    proposals.forget_index()

    staff = client.get(f"/api/v1/opportunities/{offer.id}/matches", headers=bearer("cp_logement")).get_json()
    assert staff["participants"] is None
    counts = {row["structure_id"]: row["count"] for row in staff["by_structure"]}
    assert counts[own.id] >= 1
    assert counts[other.id] >= 1
    assert "Mienne" not in str(staff)
    assert "Autrui" not in str(staff)

    cip = client.get(f"/api/v1/opportunities/{offer.id}/matches", headers=bearer("cip")).get_json()
    ids = {person["id"] for person in cip["participants"]}
    assert mine.id in ids
    assert theirs.id not in ids
    assert {row["structure_id"] for row in cip["by_structure"]} == {own.id}
