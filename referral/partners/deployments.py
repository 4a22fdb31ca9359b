"""What a territory owns of a partner it shares with others (issue 14, DESIGN §8).

A partner deployed in several territories, or part of a national partnership, has one identity
— name, kind, SIRET, address, national network, convention, description, tags, contacts — that
every territory sees: the national team edits it. A territory's CPs edit their deployment: its
status, its local contacts and its local notes. A partner of one territory only stays its CPs'
to edit entirely.

`update_partner` asks `check_identity_changes` before it writes; `update_deployment` is the CP's
action on their deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import InvalidInput, NotFound, PermissionDenied
from referral.partners.models import DeploymentStatus, Partner, PartnerTerritory
from referral.partners.scope import require_builder, scoped_territory
from referral.partners.values import clean_text
from referral.territories.models import Role, User

# The partner's columns every territory sees, by the name the API and the forms give them.
IDENTITY_FIELDS = {
    "name": "name",
    "kind": "kind",
    "siret": "siret",
    "address": "address",
    "postcode": "postcode",
    "town": "town",
    "national_network_code": "national_network",
    "convention_signed_on": "convention_signed_on",
    "convention_ends_on": "convention_ends_on",
    "description": "description",
    "tags": "tags",
}
SHARED_IDENTITY = (
    "Ce partenaire est partagé entre plusieurs territoires (ou relève d'un partenariat national) : "
    "son identité et ses contacts sont modifiés par l'équipe nationale. Vous pouvez modifier le "
    "déploiement de votre territoire (statut, contacts locaux, notes locales)."
)
CONTACT_FIELDS = ("name", "role", "email", "phone")
MAX_LOCAL_CONTACTS = 20


class SharedPartnerIdentity(PermissionDenied):
    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(
            SHARED_IDENTITY,
            errors={field: ["Modifié par l'équipe nationale (partenaire partagé)."] for field in fields},
        )


def is_shared(partner: Partner) -> bool:
    """Deployed (or under discussion) in more than one territory, or a national partnership."""
    return len(partner.territory_links) > 1 or partner.national_network_code is not None


def may_edit_identity(actor: User, partner: Partner) -> bool:
    """The national team always; a CP for a partner of their territory alone."""
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.CP and not is_shared(partner)


def check_identity_changes(
    actor: User | None,
    partner: Partner,
    columns: Mapping[str, Any],
    contacts: Sequence[Mapping[str, Any]] | None,
) -> None:
    """Refuse a change of a shared partner's identity by anyone but the national team. Values
    sent unchanged (a whole form posted again) are no change."""
    if actor is None or may_edit_identity(actor, partner):
        return
    changed = [
        IDENTITY_FIELDS.get(column, column)
        for column, value in columns.items()
        if getattr(partner, column) != value
    ]
    if contacts is not None:
        current = [tuple(getattr(contact, name) for name in CONTACT_FIELDS) for contact in partner.contacts]
        if current != [tuple(contact.get(name) for name in CONTACT_FIELDS) for contact in contacts]:
            changed.append("contacts")
    if changed:
        raise SharedPartnerIdentity(changed)


def _clean_contacts(items: Any) -> list[dict[str, str | None]]:
    errors: dict[str, list[str]] = {}
    contacts: list[dict[str, str | None]] = []
    for index, item in enumerate(items or []):
        contact = {name: clean_text(item, name) for name in CONTACT_FIELDS}
        if not contact["name"]:
            errors[f"contacts.{index}.name"] = ["Le nom du contact est obligatoire."]
        elif contact["email"] is not None and "@" not in contact["email"]:
            errors[f"contacts.{index}.email"] = ["Adresse e-mail invalide."]
        contacts.append(contact)
    if len(contacts) > MAX_LOCAL_CONTACTS:
        errors["contacts"] = [f"Au plus {MAX_LOCAL_CONTACTS} contacts locaux."]
    if errors:
        raise InvalidInput("Le déploiement contient des données invalides.", errors=errors)
    return contacts


def deployment(partner: Partner, territory_id: int) -> PartnerTerritory | None:
    return next((link for link in partner.territory_links if link.territory_id == territory_id), None)


def update_deployment(
    session: Session, actor: User, partner: Partner, territory_slug: str, values: Mapping[str, Any]
) -> PartnerTerritory:
    """A CP edits their territory's deployment of a partner (the national team: any territory's):
    its status, local contacts, local notes. `partner` is one the actor may read (the caller
    found it with `services.get_partner`)."""
    require_builder(actor)
    territory = scoped_territory(session, actor, territory_slug)
    if actor.role is Role.CP and actor.territory_id != territory.id:
        raise PermissionDenied("Un·e CP modifie le déploiement de son propre territoire seulement.")
    link = deployment(partner, territory.id)
    if link is None:
        raise NotFound(f"Ce partenaire n'est pas déployé sur le territoire « {territory.name} ».")
    if "status" in values and values["status"] is not None:
        try:
            link.status = DeploymentStatus(values["status"])
        except ValueError:
            raise InvalidInput(
                "Statut inconnu.", errors={"status": ["Statut inconnu (deployed ou in_discussion)."]}
            ) from None
    if "contacts" in values:
        link.local_contacts = _clean_contacts(values.get("contacts"))
    if "notes" in values:
        link.local_notes = clean_text(values, "notes")
    # The link table has no time of its own: the partner's moves, so the search index and the
    # meeting agenda see the change (as `services.update_partner` does for links).
    partner.updated_at = utcnow()
    session.flush()
    return link
