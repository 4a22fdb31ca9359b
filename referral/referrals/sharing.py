"""What a referral shares (DESIGN §8): which consents it needs, and the dossier the CP and the
partner receive — what the opportunity asks for, within the person's consent, nothing else of the
record."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from referral.cases import services as cases
from referral.cases.models import ConsentRecipient, DataCategory, NeedStatus
from referral.reference import queries as reference
from referral.referrals.models import Referral

# Domains where a referral may carry health details (with the person's consent).
HEALTH_DOMAINS = frozenset({"sante", "sante_mentale", "acces_droits"})


def missing_consents(session: Session, referral: Referral, on: date) -> list[str]:
    """What the person has not (or no longer) agreed to share for this referral, in French.

    The CP always receives identity and situation; the partner receives the categories the
    opportunity asks for. Both must be covered before the referral leaves the structure.
    """
    opportunity = referral.opportunity
    categories = {DataCategory.SITUATION} | {DataCategory(code) for code in opportunity.shared_categories}
    missing: list[str] = []
    for category in sorted(categories, key=lambda c: c.value):
        if not cases.may_share(
            session, referral.participant_id, recipient=ConsentRecipient.CP, category=category, on=on
        ):
            missing.append(f"{category.label} → chargé·es de partenariats")
        if not cases.may_share(
            session,
            referral.participant_id,
            recipient=ConsentRecipient.PARTNER,
            category=category,
            partner_id=opportunity.partner_id,
            on=on,
        ):
            missing.append(f"{category.label} → {opportunity.partner.name}")
    return missing


def build_dossier(session: Session, referral: Referral, on: date) -> dict[str, Any]:
    """The dossier the partner receives: what the opportunity asks for, within consent, nothing
    else of the record. Frozen on the referral when it leaves the structure."""
    person, opportunity = referral.participant, referral.opportunity
    labels = {
        name: reference.labels(session, name)
        for name in ("housing_status", "health_coverage", "residence_status", "language_level")
    }

    def allowed(category: DataCategory) -> bool:
        return cases.may_share(
            session,
            person.id,
            recipient=ConsentRecipient.PARTNER,
            category=category,
            partner_id=opportunity.partner_id,
            on=on,
        )

    dossier: dict[str, Any] = {
        "opportunity": opportunity.title,
        "partner": opportunity.partner.name,
        "documents_required": list(opportunity.documents_required),
    }
    shared = {DataCategory.SITUATION} | {DataCategory(code) for code in opportunity.shared_categories}
    if DataCategory.SITUATION in shared and allowed(DataCategory.SITUATION):
        dossier["identity"] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": person.birth_date.isoformat(),
        }
        dossier["situation"] = {
            "programme": person.programme.label,
            "housing_status": labels["housing_status"].get(person.housing_status, person.housing_status),
            "health_coverage": labels["health_coverage"].get(person.health_coverage, person.health_coverage),
            "residence_status": labels["residence_status"].get(
                person.residence_status, person.residence_status
            ),
            "residence_permit_expires_on": person.residence_permit_expires_on.isoformat()
            if person.residence_permit_expires_on
            else None,
            "language_level": labels["language_level"].get(
                person.language_level or "", person.language_level
            ),
            "driving_licence": person.driving_licence,
            "needs": [
                need.subtype_code or need.domain_code
                for need in person.needs
                if need.status is not NeedStatus.RESOLVED and need.domain_code == opportunity.domain_code
            ],
        }
    if DataCategory.RESOURCES in shared and allowed(DataCategory.RESOURCES):
        dossier["resources"] = {
            "monthly_resources": person.monthly_resources,
            "household_size": person.household_size,
            "children": person.children,
        }
    health = person.health_record
    if (
        DataCategory.HEALTH in shared
        and opportunity.domain_code in HEALTH_DOMAINS
        and health is not None
        and allowed(DataCategory.HEALTH)
    ):
        dossier["health"] = {
            "has_treating_doctor": health.has_treating_doctor,
            "rqth": health.rqth,
            "css": health.css,
        }
    return dossier
