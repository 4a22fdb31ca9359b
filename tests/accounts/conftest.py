"""Accounts tests: the demo's people, a local SMTP server, a structure of another territory."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.territories.models import Structure, Territory
from tests.helpers import demo_user
from tests.mailbox import mailbox  # noqa: F401 - the fixture

# A password the strength check accepts (four unrelated words).
NEW_PASSWORD = "girafe parapluie cornichon lanterne"


demo = demo_user  # the name these tests import


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
