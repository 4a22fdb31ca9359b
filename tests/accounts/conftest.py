"""Accounts tests: the demo's people, a local SMTP server, a structure of another territory."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.territories.models import Structure, Territory, User
from referral.territories.queries import user_by_email
from tests.helpers import DEMO
from tests.mailbox import mailbox  # noqa: F401 - the fixture

# A password the strength check accepts (four unrelated words).
NEW_PASSWORD = "girafe parapluie cornichon lanterne"


def demo(session: Session, who: str) -> User:
    user = user_by_email(session, DEMO[who])
    assert user is not None
    return user


@pytest.fixture
def elsewhere(session: Session) -> Structure:
    """A structure of a territory other than Lyon's."""
    lyon = session.scalar(select(Territory.id).where(Territory.slug == "lyon"))
    structure = session.scalars(
        select(Structure)
        .where(Structure.territory_id.is_not(None), Structure.territory_id != lyon)
        .order_by(Structure.id)
    ).first()
    assert structure is not None
    return structure
