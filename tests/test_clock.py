"""The one clock around midnight: between midnight and 1–2 a.m. Paris time, UTC still says
yesterday. People count days in France, so « today » must be the Paris day everywhere: a consent
signed tonight is not « futur », and the nightly jobs work on the French calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy.orm import Session

from referral import clock
from referral.cases import services as cases
from referral.cases.models import Consent
from referral.scheduling import jobs, services
from referral.territories.queries import user_by_email
from referral.web import filters
from tests import factories
from tests.helpers import DEMO

# (instant, Paris day): 23:30 UTC in winter is 00:30 in Paris; 00:30 in Paris in summer is 22:30 UTC.
AFTER_MIDNIGHT_IN_PARIS = [
    pytest.param(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 12, 1), id="23h30-utc-hiver"),
    pytest.param(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), date(2026, 7, 1), id="00h30-paris-ete"),
]


@pytest.mark.parametrize(("instant", "paris_day"), AFTER_MIDNIGHT_IN_PARIS)
def test_today_is_the_paris_day(instant: datetime, paris_day: date) -> None:
    with time_machine.travel(instant, tick=False):
        assert clock.today() == paris_day
        assert clock.now() == instant
        assert clock.now().tzinfo is not None
        assert clock.paris_day(clock.now()) == paris_day
        # A naive value (as SQLite returns it) is UTC.
        assert clock.paris_day(instant.replace(tzinfo=None)) == paris_day


@pytest.mark.parametrize(("instant", "paris_day"), AFTER_MIDNIGHT_IN_PARIS)
def test_a_consent_dated_today_is_accepted_after_midnight_in_paris(
    session: Session, instant: datetime, paris_day: date
) -> None:
    cip = user_by_email(session, DEMO["cip"])
    person = factories.participant(session, referent_id=cip.id, entered_on=date(2026, 1, 5))
    with time_machine.travel(instant, tick=False):
        consent = cases.record_consent(
            session, cip, person.id, {"recipient": "cp", "data_category": "situation", "given_on": paris_day}
        )
    assert isinstance(consent, Consent)
    assert consent.given_on == paris_day


@pytest.mark.parametrize(("instant", "paris_day"), AFTER_MIDNIGHT_IN_PARIS)
def test_the_daily_jobs_work_on_the_paris_day(
    monkeypatch: pytest.MonkeyPatch, instant: datetime, paris_day: date
) -> None:
    seen: dict[str, Any] = {}
    for name in ("follow_ups_due", "renewals_due", "endings", "consents_ending", "weekly_digest"):
        monkeypatch.setattr(services, name, lambda session, day, name=name: seen.setdefault(name, day))
    for job in jobs.JOBS:
        if job.name in ("follow_ups", "renewals", "endings", "consents", "digest"):
            job.run(None, instant)  # type: ignore[arg-type]
    assert set(seen.values()) == {paris_day}
    assert len(seen) == 5


def test_pages_show_paris_time_whatever_the_storage() -> None:
    stored = datetime(2026, 12, 1, 18, 6, tzinfo=UTC)  # 19:06 in Paris in winter
    assert filters.day_and_time(stored) == "01/12/2026 à 19:06"
    assert filters.time_of_day(stored.replace(tzinfo=None)) == "19:06"  # SQLite's naive UTC
    assert filters.day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "01/12/2026"
    assert filters.day(date(2026, 1, 2)) == "02/01/2026"
    assert filters.day("1985-03-14") == "14/03/1985"  # a date from a stored document
    assert filters.day(None) == ""
