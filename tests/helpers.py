"""Small assertions shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session


def refused_by_database(session: Session, action: Callable[[], Any]) -> None:
    """`action` must be refused by the database itself (a constraint), leaving the session usable."""

    def attempt() -> None:
        with session.begin_nested():
            action()
            session.flush()

    with pytest.raises((IntegrityError, DBAPIError)):
        attempt()


def accepted_by_database(session: Session, action: Callable[[], Any]) -> None:
    with session.begin_nested():
        action()
        session.flush()
