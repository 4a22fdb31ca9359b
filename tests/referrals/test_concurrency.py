"""Two CPs take the last place of an opportunity at the same moment, on PostgreSQL: exactly one
wins, the other gets 409, and the capacity never goes below zero.

This test commits for real (two connections must see each other's work), so it builds its own
rows and removes them afterwards.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, delete, select

from referral import clock
from referral.cases.models import Participant
from referral.db import Database
from referral.exceptions import Conflict
from referral.partners.models import Opportunity, Partner
from referral.referrals.models import Referral, ReferralState
from referral.referrals.services import transition
from referral.territories.models import Structure, Territory, User


@pytest.fixture
def committed(backend: str, demo_engine: Engine):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's row locks are what this test is about")
    database = Database(demo_engine)
    with database.atomic() as session:
        lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
        structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
        partner = Partner(name="Bailleur de la course", kind="bailleur_social", town="Lyon")
        session.add(partner)
        session.flush()
        opportunity = Opportunity(
            partner_id=partner.id,
            territory_id=lyon.id,
            title="Dernière place",
            domain_code="logement",
            capacity=1,
            status="published",
        )
        session.add(opportunity)
        session.flush()
        referrals = []
        for index in range(2):
            person = Participant(
                structure_id=structure.id,
                first_name=f"Course{index}",
                last_name="Concurrence",
                birth_date=date(1980, 1, 1 + index),
                programme="CVG",
                entered_on=clock.today() - timedelta(days=90),
                housing_status="rue",
                health_coverage="aucune",
                residence_status="francaise",
            )
            session.add(person)
            session.flush()
            referral = Referral(
                participant_id=person.id, opportunity_id=opportunity.id, state=ReferralState.SENT
            )
            session.add(referral)
            session.flush()
            referrals.append((referral.id, person.id))
        cp_id = session.scalar(select(User.id).where(User.email == "cp.logement.lyon@demo.convergence.test"))
        ids = {"opportunity": opportunity.id, "partner": partner.id, "referrals": referrals, "cp": cp_id}
    yield database, ids
    with database.atomic() as session:
        for referral_id, person_id in ids["referrals"]:
            session.execute(delete(Referral).where(Referral.id == referral_id))
            session.execute(delete(Participant).where(Participant.id == person_id))
        session.execute(delete(Opportunity).where(Opportunity.id == ids["opportunity"]))
        session.execute(delete(Partner).where(Partner.id == ids["partner"]))


def test_only_one_cp_gets_the_last_place(committed) -> None:
    database, ids = committed
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def take(referral_id: int) -> None:
        try:
            with database.atomic() as session:
                actor = session.get(User, ids["cp"])
                referral = session.get(Referral, referral_id)
                barrier.wait(timeout=10)
                transition(session, actor, referral_id, action="partner_accept", version=referral.version)
            result = "won"
        except Conflict as refusal:
            result = f"refused {refusal.status}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=take, args=(referral_id,)) for referral_id, _ in ids["referrals"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused 409", "won"]
    with database.atomic() as session:
        opportunity = session.get(Opportunity, ids["opportunity"])
        assert opportunity.places_taken == 1
        assert opportunity.places_left == 0
        states = sorted(session.get(Referral, rid).state.value for rid, _ in ids["referrals"])
        assert states == ["accepted", "sent"]
