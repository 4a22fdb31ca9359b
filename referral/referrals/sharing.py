"""What a referral shares (DESIGN §8): which consents it needs, and the dossier the CP and the
partner receive — what the opportunity asks for, within the person's consent, nothing else of the
record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from referral.cases import consents as consent_book
from referral.cases import services as cases
from referral.cases.models import Consent, ConsentRecipient, DataCategory, NeedStatus
from referral.partners.models import Opportunity
from referral.reference import queries as reference
from referral.referrals.models import Referral

# Domains where a referral may carry health details (with the person's consent).
HEALTH_DOMAINS = frozenset({"sante", "sante_mentale", "acces_droits"})


@dataclass(frozen=True)
class NeededConsent:
    """One consent a referral to an opportunity needs: a recipient (the CPs, or the partner by
    name) and a data category, and whether one in force covers it on the day asked."""

    recipient: ConsentRecipient
    category: DataCategory
    partner_id: int | None
    partner_name: str | None
    given: bool

    @property
    def key(self) -> str:
        """The form's value for this consent: « cp:situation », « partner:resources »."""
        return f"{self.recipient.value}:{self.category.value}"

    @property
    def recipient_label(self) -> str:
        return (
            "chargé·es de partenariats" if self.recipient is ConsentRecipient.CP else str(self.partner_name)
        )

    @property
    def label(self) -> str:
        """« Ressources → CHRS Horizon Saône »."""
        return f"{self.category.label} → {self.recipient_label}"


def shared_categories(opportunity: Opportunity) -> list[DataCategory]:
    """The categories a referral to `opportunity` shares: identity and situation always, and what
    the opportunity asks for."""
    categories = {DataCategory.SITUATION} | {DataCategory(code) for code in opportunity.shared_categories}
    return sorted(categories, key=lambda c: c.value)


def needed_consents(consents: Sequence[Consent], opportunity: Opportunity, on: date) -> list[NeededConsent]:
    """Exactly the consents a referral to `opportunity` needs (DESIGN §8): each category to the CPs
    and to the partner by name, with those already in force among `consents` marked `given`."""
    needed = []
    for category in shared_categories(opportunity):
        for recipient, partner_id in (
            (ConsentRecipient.CP, None),
            (ConsentRecipient.PARTNER, opportunity.partner_id),
        ):
            needed.append(
                NeededConsent(
                    recipient=recipient,
                    category=category,
                    partner_id=partner_id,
                    partner_name=opportunity.partner.name if partner_id is not None else None,
                    given=consent_book.covers(
                        consents, recipient=recipient, category=category, partner_id=partner_id, on=on
                    ),
                )
            )
    return needed


def referral_consents(session: Session, referral: Referral, on: date) -> list[NeededConsent]:
    """The consents this referral needs, given or not on `on`."""
    book = consent_book.consents_of(session, [referral.participant_id])
    return needed_consents(book[referral.participant_id], referral.opportunity, on)


def proposal_consents(
    session: Session, participant_id: int, opportunity_ids: Sequence[int], on: date
) -> dict[int, list[NeededConsent]]:
    """For a proposals page: the consents each opportunity would need, given or not (two queries)."""
    ids = sorted(set(opportunity_ids))
    if not ids:
        return {}
    opportunities = session.scalars(
        select(Opportunity)
        .where(Opportunity.id.in_(ids))
        .options(joinedload(Opportunity.partner))
        .order_by(Opportunity.id)
    ).all()
    consents = consent_book.consents_of(session, [participant_id])[participant_id]
    return {opportunity.id: needed_consents(consents, opportunity, on) for opportunity in opportunities}


def missing_consents(session: Session, referral: Referral, on: date) -> list[str]:
    """What the person has not (or no longer) agreed to share for this referral, in French.

    The CP always receives identity and situation; the partner receives the categories the
    opportunity asks for. Both must be covered before the referral leaves the structure.
    """
    return [needed.label for needed in referral_consents(session, referral, on) if not needed.given]


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


# --- What is shown again, day after day ----------------------------------------------------

# The dossier's sections and the consent category each was shared under.
SECTION_CATEGORIES = {
    "identity": DataCategory.SITUATION,
    "situation": DataCategory.SITUATION,
    "resources": DataCategory.RESOURCES,
    "health": DataCategory.HEALTH,
}


@dataclass(frozen=True)
class Withdrawn:
    """A category of the dossier no consent covers any more, and since when if withdrawn."""

    category: DataCategory
    withdrawn_on: date | None

    @property
    def message(self) -> str:
        if self.withdrawn_on is not None:
            return f"{self.category.label} : retiré par la personne le {self.withdrawn_on:%d/%m/%Y}."
        return f"{self.category.label} : le consentement de la personne ne le couvre plus."


@dataclass(frozen=True)
class SharedToday:
    """The frozen dossier as it may be shown on a given day: the sections a consent still
    covers, and the categories withdrawn since it was sent."""

    dossier: dict[str, Any]
    withdrawn: list[Withdrawn] = field(default_factory=list)

    @property
    def identity(self) -> dict[str, Any] | None:
        return self.dossier.get("identity")


def dossiers_on(session: Session, referrals: Sequence[Referral], on: date) -> dict[int, SharedToday]:
    """Each referral's dossier as consent allows on `on` (DESIGN §8: « on the day of each
    display »). A section stays while both the CPs and the referral's partner may still receive
    its category, the two consents `missing_consents` asked for when it was sent. One query for
    the consents of everyone in the list."""
    book = consent_book.consents_of(session, {referral.participant_id for referral in referrals})
    shown: dict[int, SharedToday] = {}
    for referral in referrals:
        frozen = referral.shared_dossier or {}
        consents = book.get(referral.participant_id, [])
        partner_id = referral.opportunity.partner_id
        recipients = ((ConsentRecipient.CP, None), (ConsentRecipient.PARTNER, partner_id))
        categories = sorted(
            {category for section, category in SECTION_CATEGORIES.items() if section in frozen},
            key=lambda category: category.value,
        )
        gone: list[Withdrawn] = []
        for category in categories:
            still = all(
                consent_book.covers(consents, recipient=recipient, category=category, partner_id=pid, on=on)
                for recipient, pid in recipients
            )
            if not still:
                day = consent_book.withdrawn_on(consents, recipients=recipients, category=category, on=on)
                gone.append(Withdrawn(category, day))
        hidden = {withdrawn.category for withdrawn in gone}
        dossier = {
            key: value
            for key, value in frozen.items()
            if key not in SECTION_CATEGORIES or SECTION_CATEGORIES[key] not in hidden
        }
        shown[referral.id] = SharedToday(dossier, gone)
    return shown


def dossier_on(session: Session, referral: Referral, on: date) -> SharedToday:
    return dossiers_on(session, [referral], on)[referral.id]


def shares_category(referral: Referral, category: DataCategory) -> bool:
    """Whether the dossier sent with this referral holds data of `category`."""
    frozen = referral.shared_dossier or {}
    return any(SECTION_CATEGORIES[section] is category for section in frozen if section in SECTION_CATEGORIES)
