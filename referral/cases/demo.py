"""Fictitious participants for the demo and the benchmarks (`referral seed --demo-participants N`).

The distributions come from `seeds/demo.toml` and follow the programme documents: people mostly in
the street or in emergency shelters, often without health coverage, with needs in several
domains. Every generated record respects the programme rules (PHC hours 4→20 h in steps, no
overlapping contracts, follow-ups 6 and 12 months after an exit…).

Generation is deterministic and idempotent: participant *i* of seed *S* is always the same person
(drawn from its own random stream), and a person already present is left alone, so seeding twice
changes nothing and seeding more adds only the new ones.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import (
    Consent,
    ConsentRecipient,
    Contract,
    ContractKind,
    DataCategory,
    Exit,
    ExternalReferent,
    FollowUp,
    FollowUpKind,
    HealthRecord,
    Need,
    NeedStatus,
    Participant,
    RenewalDecision,
    RenewalOutcome,
)
from referral.cases.rules import add_months
from referral.reference import queries as reference
from referral.territories.models import Programme, Role, Structure, User

# Birth dates come from a fixed range, not from today, so a person's identity does not move
# when the seed runs on another day.
BIRTH_RANGE = (date(1962, 1, 1), date(2004, 12, 31))
PHC_STEPS = (4, 6, 8, 10, 12, 16, 20)
# Share of demo people placed in the structures of the demo territory, whose CIPs log in.
DEMO_TERRITORY_SHARE = 0.5
# People are written by batches: one flush each costs more than building them.
FLUSH_EVERY = 200
RENEWAL_MOTIVATION = "Parcours de santé et de logement en cours ; mobilisation régulière sur le chantier."


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    birth_date: date


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    codes = sorted(weights)
    return rng.choices(codes, weights=[weights[code] for code in codes], k=1)[0]


def _identities(random_seed: int, count: int, names: Mapping[str, Any]) -> list[Identity]:
    """`count` distinct identities; a clash moves the birth date by a day until it is unique."""
    seen: set[Identity] = set()
    identities: list[Identity] = []
    span = (BIRTH_RANGE[1] - BIRTH_RANGE[0]).days
    for index in range(count):
        rng = random.Random(f"{random_seed}:{index}:identity")
        first = rng.choice(names["first_names"]["values"])
        last = rng.choice(names["last_names"]["values"])
        born = BIRTH_RANGE[0] + timedelta(days=rng.randrange(span))
        identity = Identity(first, last, born)
        while identity in seen:
            born += timedelta(days=1)
            identity = Identity(first, last, born)
        seen.add(identity)
        identities.append(identity)
    return identities


def _structure_for(
    index: int, rng: random.Random, demo: Sequence[Structure], others: Sequence[Structure]
) -> Structure:
    if demo and (not others or rng.random() < DEMO_TERRITORY_SHARE):
        return demo[index % len(demo)]
    return others[index % len(others)]


def generate_participants(
    session: Session,
    *,
    count: int,
    random_seed: int,
    weights: Mapping[str, Any],
    demo_territory_id: int | None,
    today: date | None = None,
) -> int:
    """Create the first `count` people of stream `random_seed` that are not there yet.

    Returns how many were created.
    """
    if count <= 0:
        return 0
    today = today or clock.today()
    structures = list(
        session.scalars(select(Structure).where(Structure.territory_id.is_not(None)).order_by(Structure.key))
    )
    if not structures:
        return 0
    demo = [s for s in structures if s.territory_id == demo_territory_id]
    others = [s for s in structures if s.territory_id != demo_territory_id]
    referents = {
        user.structure_id: user.id
        for user in session.scalars(select(User).where(User.role == Role.CIP).order_by(User.id))
    }
    precarity = {
        code: extra.get("precarity", 0) for code, extra in reference.extras(session, "housing_status").items()
    }
    subtypes_by_domain: dict[str, list[str]] = {}
    for domain in reference.domains(session):
        subtypes_by_domain[domain.code] = [subtype.code for subtype in domain.subtypes]

    identities = _identities(random_seed, count, weights)
    existing = set(
        session.execute(
            select(Participant.first_name, Participant.last_name, Participant.birth_date).where(
                tuple_(Participant.first_name, Participant.last_name, Participant.birth_date).in_(
                    [(i.first_name, i.last_name, i.birth_date) for i in identities]
                )
            )
        ).all()
    )
    created = 0
    for index, identity in enumerate(identities):
        if (identity.first_name, identity.last_name, identity.birth_date) in existing:
            continue
        rng = random.Random(f"{random_seed}:{index}:record")
        structure = _structure_for(index, rng, demo, others)
        participant = _participant(rng, identity, structure, weights, today)
        participant.referent_id = referents.get(structure.id)
        session.add(participant)
        _contracts(rng, participant, today)
        _needs(rng, participant, weights, subtypes_by_domain, precarity, today)
        _consents(rng, participant, today)
        _health_and_referents(rng, participant)
        _renewals_and_exit(rng, participant, today)
        created += 1
        if created % FLUSH_EVERY == 0:
            session.flush()
    session.flush()
    return created


def _participant(
    rng: random.Random, identity: Identity, structure: Structure, weights: Mapping[str, Any], today: date
) -> Participant:
    carried = structure.programmes
    programme = Programme(_weighted(rng, {p.value: weights["programme"].get(p.value, 1) for p in carried}))
    # PHC is a short first step; a Convergence path can last up to five years.
    max_months = 14 if programme is Programme.PHC else 54
    entered_on = today - timedelta(days=rng.randrange(15, max_months * 30))
    entered_on = max(entered_on, identity.birth_date + timedelta(days=18 * 366))
    residence = _weighted(rng, weights["residence_status"])
    permit_expiry = None
    if residence in ("titre_valide", "recepisse"):
        permit_expiry = today + timedelta(days=rng.randrange(-60, 540))
    household = 1 if rng.random() < 0.75 else rng.randint(2, 5)
    return Participant(
        structure_id=structure.id,
        first_name=identity.first_name,
        last_name=identity.last_name,
        birth_date=identity.birth_date,
        programme=programme,
        entered_on=entered_on,
        housing_status=_weighted(rng, weights["housing_status"]),
        health_coverage=_weighted(rng, weights["health_coverage"]),
        residence_status=residence,
        residence_permit_expires_on=permit_expiry,
        language_level=_weighted(rng, weights["language_level"]),
        driving_licence=rng.random() < 0.15,
        household_size=household,
        children=rng.randint(0, household - 1) if household > 1 else 0,
        monthly_resources=rng.choice([0, 0, 0, 300, 450, 560, 610, 750, 900, 1100]),
        # A new person has none of these yet: saying so spares a SELECT per collection once the
        # row is flushed (the seed of 2,000 people spent most of its time in those lazy loads).
        contracts=[],
        needs=[],
        consents=[],
        external_referents=[],
        renewals=[],
        follow_ups=[],
        health_record=None,
        exit=None,
    )


def _contracts(rng: random.Random, participant: Participant, today: date) -> None:
    """Consecutive contracts, never overlapping: PHC hours climb step by step."""
    start = participant.entered_on
    if participant.programme is Programme.PHC:
        steps = list(PHC_STEPS[: rng.randint(1, 4)])
        kind = ContractKind.CDDI_PHC
    else:
        steps = [rng.choice([20, 24, 26, 26, 26, 30])]
        if rng.random() < 0.15:
            steps = [rng.choice([12, 15, 18])] + steps  # under 20 h at first, allowed since 2021
        kind = ContractKind.CDDI_CVG
    for position, hours in enumerate(steps):
        last = position == len(steps) - 1
        end = None if last else min(start + timedelta(days=rng.randint(45, 120)), today)
        participant.contracts.append(Contract(kind=kind, weekly_hours=hours, starts_on=start, ends_on=end))
        if end is None or end >= today:
            break
        start = end + timedelta(days=1)


def _needs(
    rng: random.Random,
    participant: Participant,
    weights: Mapping[str, Any],
    subtypes_by_domain: Mapping[str, list[str]],
    precarity: Mapping[str, int],
    today: date,
) -> None:
    chances: Mapping[str, float] = weights["need_domain"]
    total = sum(chances.values()) or 1
    domains = [code for code in sorted(chances) if rng.random() < 2.5 * chances[code] / total]
    if precarity.get(participant.housing_status, 0) >= 2 and "logement" not in domains:
        domains.append("logement")
    if participant.health_coverage == "aucune" and "acces_droits" not in domains:
        domains.append("acces_droits")
    if not domains:  # everyone in the programme has at least one difficulty to work on
        domains.append(_weighted(rng, chances))
    for domain in domains[:5]:
        subtypes = subtypes_by_domain.get(domain, [])
        opened = (
            participant.entered_on
            if rng.random() < 0.7
            else participant.entered_on
            + timedelta(days=rng.randint(1, max(1, (today - participant.entered_on).days)))
        )
        status = _weighted(rng, {"open": 60, "in_progress": 25, "resolved": 15})
        resolved_on = None
        if status == "resolved":
            resolved_on = opened + timedelta(days=rng.randint(0, max(0, (today - opened).days)))
        participant.needs.append(
            Need(
                domain_code=domain,
                subtype_code=rng.choice(subtypes) if subtypes else None,
                priority=rng.choice([1, 1, 2, 2, 3]),
                status=NeedStatus(status),
                opened_on=opened,
                resolved_on=resolved_on,
                at_entry=opened == participant.entered_on,
            )
        )


def _consents(rng: random.Random, participant: Participant, today: date) -> None:
    given = min(participant.entered_on + timedelta(days=rng.randint(0, 20)), today)
    plan = [
        (ConsentRecipient.CP, DataCategory.SITUATION, 0.9),
        (ConsentRecipient.CP, DataCategory.RESOURCES, 0.7),
        (ConsentRecipient.CP, DataCategory.HEALTH, 0.35),
        (ConsentRecipient.EXTERNAL_REFERENT, DataCategory.SITUATION, 0.7),
        (ConsentRecipient.PARTNER, DataCategory.SITUATION, 0.6),
        (ConsentRecipient.PARTNER, DataCategory.RESOURCES, 0.45),
    ]
    for recipient, category, chance in plan:
        if rng.random() < chance:
            participant.consents.append(Consent(recipient=recipient, data_category=category, given_on=given))


def _health_and_referents(rng: random.Random, participant: Participant) -> None:
    if rng.random() < 0.6:
        has_doctor = rng.random() < 0.4
        participant.health_record = HealthRecord(
            has_treating_doctor=has_doctor,
            treating_doctor="Dr Médecin (fictif)" if has_doctor else None,
            rqth=rng.random() < 0.1,
            css=participant.health_coverage == "css",
            psychological_follow_up=rng.random() < 0.2,
        )
    if rng.random() < 0.55:
        role = rng.choice(["assistant_social", "siao", "chrs", "spip", "educateur"])
        participant.external_referents.append(
            ExternalReferent(name="Référent·e fictif·ve", organisation="Service social (fictif)", role=role)
        )


def _renewals_and_exit(rng: random.Random, participant: Participant, today: date) -> None:
    months_in = (today - participant.entered_on).days // 30
    if participant.programme is Programme.CVG and months_in >= 24:
        # From the third year, each extension is a motivated yearly decision.
        for year in range(2, min(months_in // 12, 4) + 1):
            requested = add_months(participant.entered_on, 12 * year) - timedelta(days=45)
            participant.renewals.append(
                RenewalDecision(
                    requested_on=requested,
                    motivation=RENEWAL_MOTIVATION,
                    outcome=RenewalOutcome.GRANTED,
                    decided_on=requested + timedelta(days=20),
                    decided_by="Commission de renouvellement (fictive)",
                    valid_until=add_months(participant.entered_on, 12 * (year + 1)),
                )
            )
    if months_in >= 10 and rng.random() < 0.12:
        exited_on = today - timedelta(
            days=rng.randint(10, min(300, (today - participant.entered_on).days - 1))
        )
        for contract in list(participant.contracts):
            if contract.starts_on > exited_on:
                participant.contracts.remove(contract)
            elif contract.ends_on is None or contract.ends_on > exited_on:
                contract.ends_on = exited_on
        exit_record = Exit(
            exited_on=exited_on,
            exit_type=rng.choice(["cdi", "cdd_6_mois_plus", "formation_qualifiante", "autre_siae"]),
            housing_status=participant.housing_status,
            health_coverage=participant.health_coverage,
            continued_accompaniment=True,
        )
        participant.exit = exit_record
        for kind, months in ((FollowUpKind.SIX_MONTHS, 6), (FollowUpKind.TWELVE_MONTHS, 12)):
            exit_record.follow_ups.append(
                FollowUp(participant=participant, kind=kind, due_on=add_months(exited_on, months))
            )
