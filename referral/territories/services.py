"""Territories, structures and accounts: creating and updating them.

The ``ensure_*`` functions create a row or bring it in line with the given data, keyed by its
natural key (slug, structure key, e-mail), so that `referral seed` can run any number of times.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from referral.db import assign_changed
from referral.exceptions import InvalidInput
from referral.reference.models import Domain
from referral.territories.models import Programme, Role, Structure, Territory, User

MIN_PASSWORD_LENGTH = 12


def ensure_territory(
    session: Session,
    *,
    slug: str,
    name: str,
    region: str,
    departments: Iterable[str] = (),
    convergence_since: int | None = None,
) -> Territory:
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        territory = Territory(slug=slug)
        session.add(territory)
    assign_changed(
        territory,
        name=name,
        region=region,
        departments=list(departments),
        convergence_since=convergence_since,
    )
    session.flush()
    return territory


def ensure_structure(
    session: Session,
    *,
    key: str,
    name: str,
    town: str,
    region: str,
    programmes: Iterable[str],
    territory_slug: str | None = None,
    full_name: str | None = None,
    siret: str | None = None,
    is_demo: bool = False,
) -> Structure:
    carried = {Programme(code) for code in programmes}
    if not carried:
        raise InvalidInput(
            f"La structure « {name} » doit porter au moins un programme (Convergence ou Premières Heures).",
            errors={"programmes": ["Au moins un programme est requis."]},
        )
    territory_id = None
    if territory_slug is not None:
        territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
        if territory is None:
            raise InvalidInput(
                f"Territoire inconnu : « {territory_slug} ».",
                errors={"territory": [f"« {territory_slug} » n'est pas un territoire connu."]},
            )
        territory_id = territory.id
    structure = session.scalar(select(Structure).where(Structure.key == key))
    if structure is None:
        structure = Structure(key=key)
        session.add(structure)
    assign_changed(
        structure,
        name=name,
        full_name=full_name,
        town=town,
        region=region,
        siret=siret,
        territory_id=territory_id,
        carries_cvg=Programme.CVG in carried,
        carries_phc=Programme.PHC in carried,
        is_demo=is_demo,
    )
    session.flush()
    return structure


def hash_password(password: str) -> str:
    # werkzeug's scrypt: memory-hard, and no extra dependency.
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def ensure_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
    structure_key: str | None = None,
    territory_slug: str | None = None,
    domains: Iterable[str] = (),
) -> User:
    """Create or update an account; the password is only re-hashed when it changed."""
    email = email.strip().lower()
    role_value = Role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
            errors={"password": [f"Au moins {MIN_PASSWORD_LENGTH} caractères."]},
        )
    scope: dict[str, Any] = {"structure_id": None, "territory_id": None}
    if role_value is Role.CIP:
        structure = session.scalar(select(Structure).where(Structure.key == structure_key))
        if structure is None:
            raise InvalidInput(
                "Un·e CIP doit être rattaché·e à une structure connue.",
                errors={"structure": [f"Structure inconnue : « {structure_key} »."]},
            )
        scope["structure_id"] = structure.id
    elif role_value in (Role.CP, Role.COORDINATOR):
        territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
        if territory is None:
            raise InvalidInput(
                "Un·e CP ou un·e coordinateur·rice doit être rattaché·e à un territoire connu.",
                errors={"territory": [f"Territoire inconnu : « {territory_slug} »."]},
            )
        scope["territory_id"] = territory.id
    domain_codes = list(dict.fromkeys(domains))
    if domain_codes and role_value is not Role.CP:
        raise InvalidInput(
            "Seul·e un·e CP a des domaines.", errors={"domains": ["Réservé aux chargé·es de partenariats."]}
        )
    found = list(
        session.scalars(select(Domain).where(Domain.code.in_(domain_codes)).order_by(Domain.position))
    )
    unknown = sorted(set(domain_codes) - {domain.code for domain in found})
    if unknown:
        raise InvalidInput(
            f"Domaine(s) inconnu(s) : {', '.join(unknown)}.",
            errors={"domains": [f"« {code} » n'est pas un domaine connu." for code in unknown]},
        )

    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        session.add(user)
    assign_changed(user, full_name=full_name, role=role_value, **scope)
    if not password_matches(user, password):
        user.password_hash = hash_password(password)
    if [domain.code for domain in user.domains] != [domain.code for domain in found]:
        user.domains = found
    session.flush()
    return user
