"""Helpers of the partner-network tests: demo accounts as users, valid SIRETs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from referral.territories.models import User
from referral.territories.queries import user_by_email
from tests.helpers import DEMO


def make_siret(first_thirteen: str) -> str:
    """A SIRET with a right Luhn key: the 13 given digits and the check digit."""
    for last in "0123456789":
        candidate = first_thirteen + last
        total = 0
        for index, char in enumerate(reversed(candidate)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


@pytest.fixture
def demo_user(session: Session) -> Callable[[str], User]:
    """``demo_user("cp_logement")`` → the demo account of that name."""

    def find(who: str) -> User:
        user = user_by_email(session, DEMO[who])
        assert user is not None, who
        return user

    return find
