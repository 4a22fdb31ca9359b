"""The record's timeline, export and anonymisation read referrals and office hours through
providers those higher packages register (`referral.cases.providers`): every process that builds
the application has them, their order is the record's, and one missing is an error, never a
shorter export."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.orm import Session

from referral.audit.services import Actor, set_actor
from referral.cases.export import EXPORT_SECTIONS, export_record
from referral.cases.providers import MissingProvider, Providers
from referral.cases.retention import RETENTION_PARTS, anonymise_participant
from referral.cases.timeline import TIMELINE_SOURCES, timeline
from referral.db import utcnow
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO

EXPORT_KEYS = [
    "about",
    "exported_at",
    "exported_by",
    "identity",
    "situation",
    "contracts",
    "needs",
    "consents",
    "external_referents",
    "notes",
    "health",
    "renewals",
    "exit",
    "follow_ups",
    "transfers",
    "referrals",
    "office_hours",
    "accesses",
]


def test_providers_come_in_the_expected_order_whatever_the_order_of_registration() -> None:
    registry: Providers[str] = Providers("Un registre", ["first", "second"])
    registry.register("second", "B")
    with pytest.raises(MissingProvider, match="first"):
        registry.all()
    registry.register("first", "A")
    registry.register("first", "A2")  # installing twice replaces, never doubles
    assert registry.all() == [("first", "A2"), ("second", "B")]
    with pytest.raises(ValueError, match="third"):
        registry.register("third", "C")


def test_the_tests_like_the_application_install_every_provider() -> None:
    assert [name for name, _ in TIMELINE_SOURCES.all()] == ["referrals"]
    assert [name for name, _ in EXPORT_SECTIONS.all()] == ["referrals", "office_hours"]
    assert [name for name, _ in RETENTION_PARTS.all()] == ["referrals", "office_hours"]


def test_create_app_installs_them_in_a_fresh_process() -> None:
    code = (
        "from referral.cases.export import EXPORT_SECTIONS\n"
        "from referral.cases.providers import MissingProvider\n"
        "from referral.cases.retention import RETENTION_PARTS\n"
        "from referral.cases.timeline import TIMELINE_SOURCES\n"
        "registries = (TIMELINE_SOURCES, EXPORT_SECTIONS, RETENTION_PARTS)\n"
        "for registry in registries:\n"
        "    try:\n"
        "        registry.all()\n"
        "    except MissingProvider:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('installed before create_app')\n"
        "from referral.web.app import create_app\n"
        "create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'test'})\n"
        "print([len(registry.all()) for registry in registries])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[1, 2, 2]"


def test_the_export_keeps_its_sections_in_order(session: Session) -> None:
    cip = user_by_email(session, DEMO["cip"])
    set_actor(session, Actor(user_id=cip.id, email=cip.email, role=cip.role.value))
    person = factories.participant(session)
    assert list(export_record(session, cip, person.id)) == EXPORT_KEYS


def test_a_missing_provider_stops_the_timeline_the_export_and_the_anonymisation(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cip = user_by_email(session, DEMO["cip"])
    person = factories.participant(session, last_name="Gardée")
    for registry in (TIMELINE_SOURCES, EXPORT_SECTIONS, RETENTION_PARTS):
        monkeypatch.setattr(registry, "_registered", {})
    with pytest.raises(MissingProvider):
        timeline(session, cip, person.id)
    with pytest.raises(MissingProvider):
        export_record(session, cip, person.id)
    with pytest.raises(MissingProvider):
        anonymise_participant(session, person, utcnow())
    assert person.last_name == "Gardée"  # refused before anything was changed
