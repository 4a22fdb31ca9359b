"""Keyword-only factories for test data: valid by default, every field overridable."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.models import Contract, ContractKind, Need, Participant
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.referrals.models import Referral
from referral.territories.models import Programme, Structure, Territory


def territory(session: Session, slug: str = "lyon") -> Territory:
    found = session.scalar(select(Territory).where(Territory.slug == slug))
    assert found is not None, f"territory {slug} is not seeded"
    return found


def structure(session: Session, *, key: str = "fndsa-lyon") -> Structure:
    found = session.scalar(select(Structure).where(Structure.key == key))
    assert found is not None, f"structure {key} is not seeded"
    return found


def participant(session: Session, **overrides: Any) -> Participant:
    values: dict[str, Any] = {
        "structure_id": structure(session).id,
        "first_name": "Camille",
        "last_name": "Testeur",
        "birth_date": date(1985, 3, 14),
        "programme": Programme.CVG,
        "entered_on": date(2025, 1, 6),
        "housing_status": "chu",
        "health_coverage": "aucune",
        "residence_status": "francaise",
        "household_size": 1,
        "children": 0,
    }
    values.update(overrides)
    values["programme"] = Programme(values["programme"])
    row = Participant(**values)
    session.add(row)
    session.flush()
    return row


def contract(session: Session, *, participant_id: int, **overrides: Any) -> Contract:
    values: dict[str, Any] = {
        "participant_id": participant_id,
        "kind": ContractKind.CDDI_PHC,
        "weekly_hours": 4,
        "starts_on": date(2025, 1, 6),
    }
    values.update(overrides)
    row = Contract(**values)
    session.add(row)
    session.flush()
    return row


def need(session: Session, *, participant_id: int, **overrides: Any) -> Need:
    values: dict[str, Any] = {
        "participant_id": participant_id,
        "domain_code": "logement",
        "priority": 1,
        "opened_on": date(2025, 1, 6),
    }
    values.update(overrides)
    row = Need(**values)
    session.add(row)
    session.flush()
    return row


def partner(session: Session, **overrides: Any) -> Partner:
    values: dict[str, Any] = {"name": "Partenaire de test", "kind": "association", "town": "Lyon"}
    values.update(overrides)
    row = Partner(**values)
    session.add(row)
    session.flush()
    return row


def opportunity(session: Session, **overrides: Any) -> Opportunity:
    if "partner_id" not in overrides:
        overrides["partner_id"] = partner(session).id
    values: dict[str, Any] = {
        "title": "Opportunité de test",
        "domain_code": "logement",
        "capacity": 2,
        "status": OpportunityStatus.PUBLISHED,
    }
    values.update(overrides)
    row = Opportunity(**values)
    session.add(row)
    session.flush()
    return row


def referral(session: Session, *, participant_id: int, opportunity_id: int, **overrides: Any) -> Referral:
    row = Referral(participant_id=participant_id, opportunity_id=opportunity_id, **overrides)
    session.add(row)
    session.flush()
    return row
