"""The programme spreads: the national team creates a territory and its structures from the pages.

No code change and no seed file: a territory needs a name, a slug (its address, ``/territoires/
lyon``), a region and its départements; a structure a name, a town, its SIRET when known, and the
programmes it carries (Convergence, Premières Heures or both).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.exceptions import Conflict, InvalidInput, PermissionDenied
from referral.territories.models import Programme, Role, Structure, Territory, User

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Metropolitan départements 01–95 (Corsica 2A, 2B) and overseas 971–976.
DEPARTMENT = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")
SIRET = re.compile(r"^[0-9]{14}$")


def require_national(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("Seule l'équipe nationale crée des territoires et des structures.")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def create_territory(
    session: Session,
    actor: User,
    *,
    name: str,
    slug: str,
    region: str,
    departments: Iterable[str],
    convergence_since: int | None = None,
) -> Territory:
    require_national(actor)
    errors: dict[str, list[str]] = {}
    name, region, slug = name.strip(), region.strip(), slug.strip().lower()
    codes = [code.strip().upper() for code in departments if code.strip()]
    if not name:
        errors["name"] = ["Champ obligatoire."]
    if not region:
        errors["region"] = ["Champ obligatoire."]
    if not SLUG.match(slug):
        errors["slug"] = ["Lettres minuscules sans accent, chiffres et tirets (par exemple « rouen »)."]
    if not codes:
        errors["departments"] = ["Au moins un département (par exemple 69, 2A, 974)."]
    elif bad := [code for code in codes if not DEPARTMENT.match(code)]:
        errors["departments"] = [f"« {code} » n'est pas un numéro de département." for code in bad]
    if convergence_since is not None and not 2000 <= convergence_since <= 2100:
        errors["convergence_since"] = ["Année entre 2000 et 2100."]
    if errors:
        raise InvalidInput("Le territoire ne peut pas être créé.", errors=errors)
    if session.scalar(select(Territory.id).where(Territory.slug == slug)) is not None:
        raise Conflict(f"Un territoire a déjà l'adresse « {slug} ».", errors={"slug": ["Déjà utilisée."]})
    territory = Territory(
        slug=slug,
        name=name,
        region=region,
        departments=sorted(set(codes), key=codes.index),
        convergence_since=convergence_since,
    )
    session.add(territory)
    session.flush()
    return territory


def create_structure(
    session: Session,
    actor: User,
    *,
    territory_id: int,
    name: str,
    town: str,
    siret: str | None,
    programmes: Iterable[str],
    full_name: str | None = None,
) -> Structure:
    require_national(actor)
    territory = session.get(Territory, territory_id)
    errors: dict[str, list[str]] = {}
    name, town = name.strip(), town.strip()
    siret = "".join((siret or "").split()) or None
    carried = set(programmes)
    if territory is None:
        errors["territory_id"] = ["Territoire inconnu."]
    if not name:
        errors["name"] = ["Champ obligatoire."]
    if not town:
        errors["town"] = ["Champ obligatoire."]
    if siret is not None and not SIRET.match(siret):
        errors["siret"] = ["Le SIRET compte 14 chiffres."]
    if not carried:
        errors["programmes"] = ["Au moins un programme : Convergence, Premières Heures ou les deux."]
    elif unknown := sorted(carried - {programme.value for programme in Programme}):
        errors["programmes"] = [f"« {code} » n'est pas un programme (CVG, PHC)." for code in unknown]
    if errors:
        raise InvalidInput("La structure ne peut pas être créée.", errors=errors)
    assert territory is not None
    if session.scalar(select(Structure.id).where(Structure.name == name, Structure.town == town)) is not None:
        raise Conflict(
            f"La structure « {name} » existe déjà à {town}.",
            errors={"name": ["Déjà enregistrée dans cette ville."]},
        )
    base = f"{slugify(name)}-{slugify(town)}"[:70].strip("-") or "structure"
    key, suffix = base, 2
    while session.scalar(select(Structure.id).where(Structure.key == key)) is not None:
        key, suffix = f"{base}-{suffix}", suffix + 1
    structure = Structure(
        key=key,
        name=name,
        full_name=(full_name or "").strip() or None,
        town=town,
        region=territory.region,
        siret=siret,
        territory_id=territory.id,
        carries_cvg=Programme.CVG.value in carried,
        carries_phc=Programme.PHC.value in carried,
    )
    session.add(structure)
    session.flush()
    return structure
