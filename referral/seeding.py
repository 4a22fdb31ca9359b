"""`referral seed`: reference data and the demo territory, from the TOML files in `seeds/`.

Everything goes through the services (``ensure_*``), keyed by stable natural keys, so seeding is
idempotent: a second run finds every row and writes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.demo import generate_participants
from referral.partners import opportunities
from referral.partners import services as partners
from referral.reference import services as reference
from referral.referrals.demo_activity import seed_demo_activity
from referral.seeds import SEEDS_PATH, load_seed_file
from referral.territories import services as territories
from referral.territories.models import Territory, User

DEMO_TERRITORY = "lyon"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    scope: str


@dataclass
class SeedReport:
    counts: Counter[str] = field(default_factory=Counter)


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def seed_reference(session: Session, seeds_path: Path = SEEDS_PATH) -> Counter[str]:
    counts: Counter[str] = Counter()
    domains = load_seed_file("reference/domains.toml", seeds_path)["domain"]
    reference.load_domains(session, domains)
    counts["domaines"] = len(domains)
    counts["sous-thèmes"] = sum(len(item.get("subtype", [])) for item in domains)
    lists = load_seed_file("reference/lists.toml", seeds_path)
    reference.load_lists(session, lists)
    counts["codes de référence"] = sum(len(items) for items in lists.values())
    return counts


def seed_territories(session: Session, seeds_path: Path = SEEDS_PATH) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in load_seed_file("territories.toml", seeds_path)["territory"]:
        territories.ensure_territory(
            session,
            slug=item["slug"],
            name=item["name"],
            region=item["region"],
            departments=item.get("departments", []),
            convergence_since=item.get("convergence_since"),
        )
        counts["territoires"] += 1
    for item in load_seed_file("structures.toml", seeds_path)["structure"]:
        territories.ensure_structure(
            session,
            key=item["key"],
            name=item["name"],
            full_name=item.get("full_name"),
            town=item["town"],
            region=item["region"],
            programmes=item["programmes"],
            territory_slug=item.get("territory"),
            siret=item.get("siret"),
            is_demo=bool(item.get("demo", False)),
        )
        counts["structures"] += 1
    return counts


def seed_partners(session: Session, seeds_path: Path = SEEDS_PATH) -> Counter[str]:
    counts: Counter[str] = Counter()
    data = load_seed_file("partners.toml", seeds_path)
    for item in data.get("national_network", []):
        partners.ensure_national_network(
            session,
            code=item["code"],
            name=item["name"],
            kind=item["kind"],
            description=item.get("description"),
        )
        counts["partenariats nationaux"] += 1
    for item in data.get("partner", []):
        partner = partners.ensure_partner(
            session,
            key=item["key"],
            name=item["name"],
            kind=item["kind"],
            territories=item.get("territories", []),
            national_network=item.get("national_network"),
            town=item.get("town"),
            siret=item.get("siret"),
            tags=item.get("tags", []),
            description=item.get("description"),
            convention_signed_on=_as_date(item.get("convention_signed_on")),
            convention_ends_on=_as_date(item.get("convention_ends_on")),
        )
        counts["partenaires"] += 1
        for opportunity in item.get("opportunity", []):
            opportunities.ensure_opportunity(
                session,
                key=f"{item['key']}:{slugify(opportunity['title'])}",
                partner=partner,
                title=opportunity["title"],
                domain=opportunity["domain"],
                subtypes=opportunity.get("subtypes", []),
                territory_slug=opportunity.get("territory"),
                description=opportunity.get("description"),
                capacity=opportunity.get("capacity", 1),
                answer_delay_days=opportunity.get("answer_delay_days", 30),
                requires_cp_validation=opportunity.get("requires_cp_validation", True),
                procedure=opportunity.get("procedure"),
                documents_required=opportunity.get("documents_required", []),
                shared_categories=opportunity.get("shared_categories", []),
                tags=opportunity.get("tags", []),
                criteria=opportunity.get("criteria", []),
                valid_from=_as_date(opportunity.get("valid_from")),
                valid_until=_as_date(opportunity.get("valid_until")),
            )
            counts["opportunités"] += 1
    return counts


def seed_demo_users(session: Session, seeds_path: Path = SEEDS_PATH) -> int:
    data = load_seed_file("demo.toml", seeds_path)
    for item in data["user"]:
        territories.ensure_user(
            session,
            email=item["email"],
            full_name=item["full_name"],
            role=item["role"],
            password=data["password"],
            structure_key=item.get("structure"),
            territory_slug=item.get("territory"),
            domains=item.get("domains", []),
        )
    return len(data["user"])


def demo_accounts(session: Session, seeds_path: Path = SEEDS_PATH) -> tuple[str, list[DemoAccount]]:
    """The demo password and the demo accounts present in the database, in the file's order."""
    data = load_seed_file("demo.toml", seeds_path)
    emails = [item["email"].lower() for item in data["user"]]
    users = {user.email: user for user in session.scalars(select(User).where(User.email.in_(emails)))}
    accounts: list[DemoAccount] = []
    for email in emails:
        user = users.get(email)
        if user is None:
            continue
        if user.structure is not None:
            scope = user.structure.full_name or user.structure.name
        elif user.territory is not None:
            scope = user.territory.name
        else:
            scope = "tous les territoires"
        if user.domains:
            scope += " — " + ", ".join(domain.label for domain in user.domains)
        accounts.append(DemoAccount(user.email, user.full_name, user.role.label, scope))
    return data["password"], accounts


def seed_all(
    session: Session,
    *,
    demo_participants: int = 0,
    random_seed: int = 1,
    today: date | None = None,
    seeds_path: Path = SEEDS_PATH,
    progress: Progress | None = None,
    demo_activity: bool = True,
) -> SeedReport:
    """Load everything in dependency order; the caller commits (`Database.atomic()`).

    The generated people depend only on `random_seed` and `today` (their dates are drawn back
    from it): the same pair gives the same people on any database. With people, the demo
    territory also gets its activity (referrals in every state, meetings, office hours, a
    workshop) unless `demo_activity` is false (the tests that count their own referrals).
    """
    say = progress or (lambda _message: None)
    report = SeedReport()
    say("Référentiels (domaines, listes)…")
    report.counts.update(seed_reference(session, seeds_path))
    say("Territoires et structures…")
    report.counts.update(seed_territories(session, seeds_path))
    say("Partenaires et opportunités…")
    report.counts.update(seed_partners(session, seeds_path))
    say("Comptes de démonstration…")
    report.counts["comptes de démonstration"] = seed_demo_users(session, seeds_path)
    if demo_participants:
        say(f"Salarié·es fictif·ves ({demo_participants})…")
        weights = load_seed_file("demo.toml", seeds_path)["participants"]
        demo_territory_id = session.scalar(select(Territory.id).where(Territory.slug == DEMO_TERRITORY))
        report.counts["salarié·es créé·es"] = generate_participants(
            session,
            count=demo_participants,
            random_seed=random_seed,
            weights=weights,
            demo_territory_id=demo_territory_id,
            today=today,
        )
    if demo_participants and demo_activity:
        say("Activité de démonstration (orientations, réunions, permanences, atelier)…")
        report.counts["éléments d'activité créés"] = seed_demo_activity(session, DEMO_TERRITORY, today)
    return report


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
