"""Collective workshops (« ateliers collectifs ») a CP runs for a territory's staff or participants."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.db import assign_changed
from referral.exceptions import InvalidInput
from referral.partners.exceptions import WorkshopNotFound
from referral.partners.models import Workshop
from referral.partners.scope import (
    in_own_domains,
    is_territory_cp,
    may_read_territory,
    require_cp,
    scoped_territory,
)
from referral.partners.values import clean_text
from referral.reference import queries as reference
from referral.territories.models import User


def may_run_workshops(actor: User) -> bool:
    """CPs run and record the workshops of their territory."""
    return is_territory_cp(actor)


def list_workshops(session: Session, actor: User, territory_slug: str) -> list[Workshop]:
    territory = scoped_territory(session, actor, territory_slug)
    return list(
        session.scalars(
            select(Workshop)
            .where(Workshop.territory_id == territory.id)
            .order_by(Workshop.held_on.desc(), Workshop.id.desc())
        )
    )


def get_workshop(session: Session, actor: User, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None or not may_read_territory(actor, workshop.territory_id):
        raise WorkshopNotFound()
    return workshop


def _workshop_values(
    session: Session, actor: User, values: Mapping[str, Any], current: Workshop | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "theme" in values or current is None:
        theme = clean_text(values, "theme")
        if not theme:
            errors["theme"] = ["Le thème de l'atelier est obligatoire."]
        clean["theme"] = theme
    if "held_on" in values or current is None:
        held_on = values.get("held_on")
        if not isinstance(held_on, date):
            errors["held_on"] = ["Date de l'atelier obligatoire."]
        clean["held_on"] = held_on
    if "audience" in values or current is None:
        audience = clean_text(values, "audience")
        if audience not in reference.code_set(session, "workshop_audience"):
            errors["audience"] = ["Public inconnu : permanents, salaries ou mixte."]
        clean["audience"] = audience
    if "domain" in values:
        domain = clean_text(values, "domain")
        if domain is not None:
            if domain not in reference.domain_codes(session):
                errors["domain"] = [f"« {domain} » n'est pas un domaine connu."]
            elif not in_own_domains(actor, domain):
                errors["domain"] = ["Un atelier porte sur l'un de vos domaines."]
        clean["domain_code"] = domain
    if "attendance_count" in values:
        count = values.get("attendance_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            errors["attendance_count"] = ["Le nombre de participant·es est un entier positif ou nul."]
        clean["attendance_count"] = count
    if "notes" in values:
        clean["notes"] = clean_text(values, "notes")
    held_on = clean.get("held_on", current.held_on if current else None)
    count = clean.get("attendance_count", current.attendance_count if current else None)
    if isinstance(held_on, date) and count is not None and held_on > clock.today():
        errors["attendance_count"] = ["Le nombre de participant·es se renseigne après l'atelier."]
    if errors:
        raise InvalidInput("L'atelier contient des données invalides.", errors=errors)
    return clean


def create_workshop(session: Session, actor: User, values: Mapping[str, Any]) -> Workshop:
    """A CP records a workshop they run for the territory's staff or participants."""
    require_cp(actor, "Les ateliers collectifs sont animés par les chargé·es de partenariats.")
    clean = _workshop_values(session, actor, values, None)
    workshop = Workshop(territory_id=actor.territory_id, cp_id=actor.id, **clean)
    session.add(workshop)
    session.flush()
    return workshop


def update_workshop(session: Session, actor: User, workshop_id: int, values: Mapping[str, Any]) -> Workshop:
    """A CP of the territory completes a workshop: attendance, notes."""
    workshop = get_workshop(session, actor, workshop_id)
    require_cp(actor, "Les ateliers collectifs sont animés par les chargé·es de partenariats.")
    if workshop.territory_id != actor.territory_id:
        raise WorkshopNotFound()
    assign_changed(workshop, **_workshop_values(session, actor, values, workshop))
    session.flush()
    return workshop
