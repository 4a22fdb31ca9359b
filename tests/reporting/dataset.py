"""A small hand-built dataset whose indicators are worked out in the tests (issue 17, « Done when»).

Territory « lyon » with structures A (Convergence) and B (Premières Heures), territory « lille »
with one person. The period of reference is the year 2026; « today » is 31 December 2026.

- Alice (1), A, CVG: 2025-03-01 → exit 2026-02-28 (CDI); rue → logement social, aucune → CSS, a
  right opened, doctor at exit; 6-month follow-up done (still in job).
- Alice (2), A, CVG: 2026-06-01 →; came back: a second record, the same person; need logement
  referred (R1, accepted in 4 days).
- Bruno, A, CVG: 2024-01-15 → exit 2026-03-15 (en recherche d'emploi); a path over two periods,
  790 days (past 24 months); CHU → CHU, PUMa → PUMa, doctor found; renewal granted 2026-01-10;
  6-month follow-up late; R2 refused (pas de place) in 10 days.
- Chloé, A, CVG: 2026-02-01 → exit 2026-11-30 (formation qualifiante); an exit without follow-up
  yet (due 2027-05-30); chez un tiers → résidence sociale; AME → AME.
- Damien, B, PHC: 2026-01-05 →; 4 h → 8 h → 20 h on 2026-05-04 (17 weeks); need santé referred
  (R3: waiting list in 2 days, then abandoned, injoignable).
- Emma, B, PHC: 2025-09-01 →; 6 h, then a CDDI of 26 h on 2026-09-07 (53 weeks); need logement
  resolved 2026-10-01.
- Farid, B, PHC: 2026-04-01 →; 4 h, no progression; need mobilité, nothing referred and no
  mobility offer in Lyon.
- Gilles, A, CVG: 2023-01-10 → exit 2025-06-30; out before 2026; his 12-month follow-up (due
  2026-06-30) done: contact lost.
- Hugo, Lille, CVG: 2026-01-10 →; another territory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from referral.cases.models import (
    Contract,
    ContractKind,
    Exit,
    FollowUp,
    FollowUpKind,
    HealthRecord,
    Need,
    NeedStatus,
    Participant,
    RenewalDecision,
    RenewalOutcome,
)
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.referrals.models import Referral, ReferralState, ReferralTransition
from referral.seeding import seed_reference
from referral.territories.models import Programme, Role, Structure, Territory, User

TODAY = date(2026, 12, 31)
START, END = date(2026, 1, 1), date(2026, 12, 31)


@dataclass
class World:
    lyon: Territory
    lille: Territory
    a: Structure
    b: Structure
    c: Structure
    cip_a: User
    cip_b: User
    coordinator: User
    cp: User
    coordinator_lille: User
    admin: User
    people: dict[str, Participant]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def territory(session: Session, slug: str, name: str) -> Territory:
    row = Territory(slug=slug, name=name, region="Région")
    session.add(row)
    session.flush()
    return row


def structure(session: Session, key: str, name: str, territory_id: int, *, phc: bool = False) -> Structure:
    row = Structure(
        key=key,
        name=name,
        town="Lyon",
        region="Région",
        territory_id=territory_id,
        carries_cvg=not phc,
        carries_phc=phc,
    )
    session.add(row)
    session.flush()
    return row


def user(session: Session, email: str, role: Role, **scope: int) -> User:
    row = User(email=email, full_name=email.split("@")[0], role=role, **scope)
    session.add(row)
    session.flush()
    return row


def person(
    session: Session, structure_id: int, first: str, last: str, entered: str, **extra: object
) -> Participant:
    values: dict[str, object] = {
        "structure_id": structure_id,
        "first_name": first,
        "last_name": last,
        "birth_date": date(1980, 5, 17),
        "programme": Programme.CVG,
        "entered_on": date.fromisoformat(entered),
        "housing_status": "chu",
        "health_coverage": "puma",
        "residence_status": "francaise",
    }
    values.update(extra)
    row = Participant(**values)
    session.add(row)
    session.flush()
    return row


def leave(session: Session, who: Participant, day: str, exit_type: str, **extra: object) -> Exit:
    row = Exit(participant_id=who.id, exited_on=date.fromisoformat(day), exit_type=exit_type, **extra)
    session.add(row)
    session.flush()
    return row


def follow_up(
    session: Session,
    exit_row: Exit,
    kind: FollowUpKind,
    due: str,
    done: str | None = None,
    outcome: str | None = None,
) -> None:
    session.add(
        FollowUp(
            participant_id=exit_row.participant_id,
            exit_id=exit_row.id,
            kind=kind,
            due_on=date.fromisoformat(due),
            done_on=date.fromisoformat(done) if done else None,
            outcome=outcome,
        )
    )


def contract(session: Session, who: Participant, kind: ContractKind, hours: float, starts: str) -> None:
    session.add(
        Contract(participant_id=who.id, kind=kind, weekly_hours=hours, starts_on=date.fromisoformat(starts))
    )


def need(session: Session, who: Participant, domain: str, opened: str, resolved: str | None = None) -> None:
    session.add(
        Need(
            participant_id=who.id,
            domain_code=domain,
            opened_on=date.fromisoformat(opened),
            status=NeedStatus.RESOLVED if resolved else NeedStatus.OPEN,
            resolved_on=date.fromisoformat(resolved) if resolved else None,
        )
    )


def referral(
    session: Session,
    who: Participant,
    offer: Opportunity,
    created: str,
    moves: list[tuple[str, ReferralState, str, str | None]],
) -> Referral:
    """`moves`: (action, to_state, day, reason), from the draft on."""
    row = Referral(
        participant_id=who.id, opportunity_id=offer.id, created_at=at(created, 9), state=ReferralState.DRAFT
    )
    session.add(row)
    session.flush()
    previous: ReferralState | None = ReferralState.DRAFT
    for action, state, day, reason in moves:
        session.add(
            ReferralTransition(
                referral_id=row.id,
                action=action,
                from_state=previous,
                to_state=state,
                at=at(day),
                reason=reason,
            )
        )
        previous = state
    row.state = previous
    session.flush()
    return row


def build(session: Session) -> World:
    seed_reference(session)
    lyon = territory(session, "lyon", "Lyon")
    lille = territory(session, "lille", "Lille")
    a = structure(session, "a", "Chantier A", lyon.id)
    b = structure(session, "b", "Chantier B", lyon.id, phc=True)
    c = structure(session, "c", "Chantier C", lille.id)
    world = World(
        lyon=lyon,
        lille=lille,
        a=a,
        b=b,
        c=c,
        cip_a=user(session, "cip.a@test.fr", Role.CIP, structure_id=a.id),
        cip_b=user(session, "cip.b@test.fr", Role.CIP, structure_id=b.id),
        coordinator=user(session, "coord.lyon@test.fr", Role.COORDINATOR, territory_id=lyon.id),
        cp=user(session, "cp.lyon@test.fr", Role.CP, territory_id=lyon.id),
        coordinator_lille=user(session, "coord.lille@test.fr", Role.COORDINATOR, territory_id=lille.id),
        admin=user(session, "admin@test.fr", Role.ADMIN),
        people={},
    )
    p = world.people
    p["alice1"] = person(
        session, a.id, "Alice", "Martin", "2025-03-01", housing_status="rue", health_coverage="aucune"
    )
    p["alice2"] = person(
        session, a.id, "Alice", "Martin", "2026-06-01", housing_status="rue", health_coverage="css"
    )
    p["bruno"] = person(session, a.id, "Bruno", "Petit", "2024-01-15", birth_date=date(1975, 1, 2))
    p["chloe"] = person(
        session,
        a.id,
        "Chloé",
        "Durand",
        "2026-02-01",
        housing_status="heberge_tiers",
        health_coverage="ame",
        birth_date=date(1990, 8, 8),
    )
    phc = {"programme": Programme.PHC}
    p["damien"] = person(session, b.id, "Damien", "Roux", "2026-01-05", birth_date=date(1970, 2, 3), **phc)
    p["emma"] = person(session, b.id, "Emma", "Blanc", "2025-09-01", birth_date=date(1988, 4, 4), **phc)
    p["farid"] = person(session, b.id, "Farid", "Haddad", "2026-04-01", birth_date=date(1992, 6, 6), **phc)
    p["gilles"] = person(session, a.id, "Gilles", "Morel", "2023-01-10", birth_date=date(1966, 1, 1))
    p["hugo"] = person(session, c.id, "Hugo", "Lefebvre", "2026-01-10", birth_date=date(1984, 9, 9))

    alice_exit = leave(
        session,
        p["alice1"],
        "2026-02-28",
        "cdi",
        housing_status="logement_social",
        health_coverage="css",
        has_treating_doctor=True,
        rights_opened=["css"],
    )
    follow_up(
        session, alice_exit, FollowUpKind.SIX_MONTHS, "2026-08-28", "2026-09-01", "emploi_meme_employeur"
    )
    follow_up(session, alice_exit, FollowUpKind.TWELVE_MONTHS, "2027-02-28")
    session.add(HealthRecord(participant_id=p["bruno"].id, has_treating_doctor=False))
    bruno_exit = leave(
        session,
        p["bruno"],
        "2026-03-15",
        "recherche_emploi",
        housing_status="chu",
        health_coverage="puma",
        has_treating_doctor=True,
    )
    follow_up(session, bruno_exit, FollowUpKind.SIX_MONTHS, "2026-09-15")
    follow_up(session, bruno_exit, FollowUpKind.TWELVE_MONTHS, "2027-03-15")
    session.add(
        RenewalDecision(
            participant_id=p["bruno"].id,
            requested_on=date(2025, 12, 1),
            motivation="Parcours à consolider.",
            outcome=RenewalOutcome.GRANTED,
            decided_on=date(2026, 1, 10),
            valid_until=date(2027, 1, 14),
        )
    )
    chloe_exit = leave(
        session,
        p["chloe"],
        "2026-11-30",
        "formation_qualifiante",
        housing_status="residence_sociale",
        health_coverage="ame",
    )
    follow_up(session, chloe_exit, FollowUpKind.SIX_MONTHS, "2027-05-30")
    follow_up(session, chloe_exit, FollowUpKind.TWELVE_MONTHS, "2027-11-30")
    gilles_exit = leave(session, p["gilles"], "2025-06-30", "cdd_moins_6_mois")
    follow_up(session, gilles_exit, FollowUpKind.SIX_MONTHS, "2025-12-30", "2026-01-05", "emploi_ailleurs")
    follow_up(session, gilles_exit, FollowUpKind.TWELVE_MONTHS, "2026-06-30", "2026-07-02", "contact_perdu")

    contract(session, p["damien"], ContractKind.CDDI_PHC, 4, "2026-01-05")
    contract(session, p["damien"], ContractKind.CDDI_PHC, 8, "2026-03-02")
    contract(session, p["damien"], ContractKind.CDDI_PHC, 20, "2026-05-04")
    contract(session, p["emma"], ContractKind.CDDI_PHC, 6, "2025-09-01")
    contract(session, p["emma"], ContractKind.CDDI, 26, "2026-09-07")
    contract(session, p["farid"], ContractKind.CDDI_PHC, 4, "2026-04-01")

    need(session, p["alice2"], "logement", "2026-06-01")
    need(session, p["bruno"], "emploi", "2024-01-15")
    need(session, p["damien"], "sante", "2026-01-05")
    need(session, p["emma"], "logement", "2025-09-01", resolved="2026-10-01")
    need(session, p["farid"], "mobilite", "2026-04-01")

    housing_partner = Partner(name="Bailleur du Rhône", kind="bailleur_social", town="Lyon")
    health_partner = Partner(name="Maison de santé des Pentes", kind="maison_sante", town="Lyon")
    session.add_all([housing_partner, health_partner])
    session.flush()
    housing = Opportunity(
        partner_id=housing_partner.id,
        territory_id=lyon.id,
        title="Logement",
        domain_code="logement",
        status=OpportunityStatus.PUBLISHED,
    )
    health = Opportunity(
        partner_id=health_partner.id,
        territory_id=lyon.id,
        title="Médecin",
        domain_code="sante",
        status=OpportunityStatus.PUBLISHED,
    )
    session.add_all([housing, health])
    session.flush()
    S = ReferralState
    referral(
        session,
        p["alice2"],
        housing,
        "2026-06-10",
        [
            ("submit", S.SUBMITTED, "2026-06-10", None),
            ("validate", S.SENT, "2026-06-11", None),
            ("partner_accept", S.ACCEPTED, "2026-06-15", None),
        ],
    )
    referral(
        session,
        p["bruno"],
        housing,
        "2026-02-01",
        [
            ("submit", S.SUBMITTED, "2026-02-01", None),
            ("validate", S.SENT, "2026-02-02", None),
            ("partner_refuse", S.REFUSED, "2026-02-12", "pas_de_place"),
        ],
    )
    referral(
        session,
        p["damien"],
        health,
        "2026-03-01",
        [
            ("submit", S.SENT, "2026-03-01", None),
            ("partner_waitlist", S.WAITLISTED, "2026-03-03", None),
            ("abandon", S.ABANDONED, "2026-04-01", "injoignable"),
        ],
    )
    # Created before the period: not counted in 2026.
    referral(session, p["chloe"], health, "2025-12-20", [("submit", S.SENT, "2025-12-20", None)])
    session.flush()
    return world
