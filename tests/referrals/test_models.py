"""Referrals: one live referral per person and opportunity; the version column guards concurrent moves."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from referral.referrals.models import Referral, ReferralState
from tests import factories
from tests.helpers import accepted_by_database, refused_by_database


def test_one_live_referral_per_person_and_opportunity(session: Session) -> None:
    person = factories.participant(session)
    opportunity = factories.opportunity(session)
    first = factories.referral(session, participant_id=person.id, opportunity_id=opportunity.id)
    refused_by_database(
        session, lambda: factories.referral(session, participant_id=person.id, opportunity_id=opportunity.id)
    )
    # Once the first one is over, the person may be referred there again.
    first.state = ReferralState.REFUSED
    session.flush()
    accepted_by_database(
        session, lambda: factories.referral(session, participant_id=person.id, opportunity_id=opportunity.id)
    )


def test_version_increments_and_a_stale_write_is_refused(db, session: Session) -> None:
    person = factories.participant(session)
    opportunity = factories.opportunity(session)
    referral = factories.referral(session, participant_id=person.id, opportunity_id=opportunity.id)
    assert referral.version == 1
    referral.state = ReferralState.SUBMITTED
    session.flush()
    assert referral.version == 2
    session.commit()

    # Another session moves the referral on; ours still holds version 2.
    with db.session() as other:
        theirs = other.get(Referral, referral.id)
        theirs.state = ReferralState.CANCELLED
        other.commit()

    referral.state = ReferralState.SENT
    with pytest.raises(StaleDataError):
        session.flush()
