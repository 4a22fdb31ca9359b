"""A small territory built by hand in the database, whose ecosystem is worked out by hand.

« Clairval » (fictional), beside the seeded demo data (its own structures, partners and people, so
the demo does not change the answers):

- structures: Chantier Alpha (4 people in the active file, plus one out of the programme and one
  anonymised, who do not count) and Chantier Beta (2 people);
- partners: Maison de santé Clairval (santé, 2 places left of 5), Bailleur Clairval (logement
  social, 1 place), Franprix Clairval (the national partnership, deployed, a national emploi opportunity
  with 2 places) and Vinci Clairval (national, in discussion, no opportunity);
- one CP, Inès Cardinal, for santé and logement: she follows the santé and logement partners;
- open needs: langue × 3 (2 at Alpha, 1 at Beta) that no partner answers — **a gap**; logement
  social × 2 at Alpha for 1 place — a shortfall; a resolved santé need and the needs of the person
  out of the programme do not count;
- referrals: Alpha → Maison de santé: 4 sent, all accepted (answer in 2, 6, 4 and 4 days; one in
  December 2025, three in 2026) — santé **depends on a single partner**; Beta → Bailleur: 1 sent,
  refused after 10 days; Beta → Franprix: 1 sent, unanswered; Alpha → Bailleur: a draft never
  sent, which is not a referral of the network.

Participants carry distinctive names (`NAMES`) so that tests can grep every response for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from referral.cases.models import Exit, Need, NeedStatus, Participant
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference.models import Domain, DomainSubtype
from referral.referrals.models import Referral, ReferralState, ReferralTransition
from referral.territories.models import Programme, Role, Structure, Territory, User

SLUG = "clairval"
NAMES = (
    ("Zéphyrine", "Quintavalle"),
    ("Barnabé", "Oxenstierna"),
    ("Philomène", "Trébuchet"),
    ("Anatole", "Vauquelinard"),
    ("Séraphin", "Kowalczyk"),
    ("Ombeline", "Delaterrasse"),
    ("Eudoxie", "Marchepied"),
    ("Cyprien", "Anonymisé"),
)
CP_EMAIL = "cp.clairval@demo.convergence.test"
COORDINATOR_EMAIL = "coordination.clairval@demo.convergence.test"


@dataclass(frozen=True)
class Clairval:
    territory: Territory
    alpha: Structure
    beta: Structure
    sante: Partner
    bailleur: Partner
    franprix: Partner
    vinci: Partner
    sante_opportunity: Opportunity
    logement_opportunity: Opportunity
    emploi_opportunity: Opportunity
    cp: User
    coordinator: User
    people: tuple[Participant, ...]


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _participant(session: Session, structure: Structure, index: int) -> Participant:
    first, last = NAMES[index]
    person = Participant(
        structure_id=structure.id,
        first_name=first,
        last_name=last,
        birth_date=date(1980 + index, 1, 15),
        programme=Programme.CVG,
        entered_on=date(2025, 1, 6),
        housing_status="chu",
        health_coverage="aucune",
        residence_status="francaise",
    )
    session.add(person)
    session.flush()
    return person


def _need(
    session: Session, person: Participant, domain: str, subtype: str | None = None, **extra: object
) -> None:
    session.add(
        Need(
            participant_id=person.id,
            domain_code=domain,
            subtype_code=subtype,
            priority=1,
            opened_on=date(2025, 2, 1),
            **extra,
        )
    )


def _referral(
    session: Session,
    person: Participant,
    opportunity: Opportunity,
    created: date,
    moves: list[tuple[ReferralState, date]],
) -> Referral:
    """A referral created on `created` that went through `moves` (state reached, day)."""
    final = moves[-1][0] if moves else ReferralState.DRAFT
    referral = Referral(
        participant_id=person.id, opportunity_id=opportunity.id, state=final, created_at=at(created, 8)
    )
    session.add(referral)
    session.flush()
    previous = ReferralState.DRAFT
    for state, day in moves:
        session.add(
            ReferralTransition(
                referral_id=referral.id,
                action=state.value,
                from_state=previous,
                to_state=state,
                at=at(day),
            )
        )
        previous = state
    session.flush()
    return referral


def build(session: Session) -> Clairval:
    territory = Territory(slug=SLUG, name="Clairval", region="Test", departments=["99"])
    session.add(territory)
    session.flush()
    alpha = Structure(
        territory_id=territory.id,
        key="clairval-alpha",
        name="Chantier Alpha",
        town="Clairval",
        region="Test",
        carries_cvg=True,
    )
    beta = Structure(
        territory_id=territory.id,
        key="clairval-beta",
        name="Chantier Beta",
        town="Clairval",
        region="Test",
        carries_phc=True,
    )
    session.add_all([alpha, beta])
    session.flush()

    def partner(name: str, kind: str, status: DeploymentStatus, network: str | None = None) -> Partner:
        row = Partner(name=name, kind=kind, town="Clairval", national_network_code=network)
        row.territory_links.append(PartnerTerritory(territory_id=territory.id, status=status))
        session.add(row)
        session.flush()
        return row

    sante = partner("Maison de santé Clairval", "maison_sante", DeploymentStatus.DEPLOYED)
    bailleur = partner("Bailleur Clairval", "bailleur_social", DeploymentStatus.DEPLOYED)
    franprix = partner("Franprix Clairval", "entreprise", DeploymentStatus.DEPLOYED, "franprix")
    vinci = partner("Vinci Clairval", "entreprise", DeploymentStatus.IN_DISCUSSION, "vinci")

    def opportunity(
        partner_row: Partner, domain: str, capacity: int, taken: int, *, local: bool = True
    ) -> Opportunity:
        row = Opportunity(
            partner_id=partner_row.id,
            territory_id=territory.id if local else None,
            title=f"Offre {domain} de {partner_row.name}",
            domain_code=domain,
            capacity=capacity,
            places_taken=taken,
            status=OpportunityStatus.PUBLISHED,
        )
        session.add(row)
        session.flush()
        return row

    sante_opportunity = opportunity(sante, "sante", 5, 3)
    logement_opportunity = opportunity(bailleur, "logement", 1, 0)
    logement_opportunity.subtypes.append(session.get(DomainSubtype, "logement.social"))
    emploi_opportunity = opportunity(franprix, "emploi", 2, 0, local=False)

    cp = User(
        email=CP_EMAIL,
        full_name="Inès Cardinal",
        role=Role.CP,
        territory_id=territory.id,
        domains=[session.get(Domain, "sante"), session.get(Domain, "logement")],
    )
    coordinator = User(
        email=COORDINATOR_EMAIL,
        full_name="Gaspard Coordonnier",
        role=Role.COORDINATOR,
        territory_id=territory.id,
    )
    session.add_all([cp, coordinator])
    session.flush()

    people = [_participant(session, alpha, i) for i in range(4)]
    people += [_participant(session, beta, i) for i in (4, 5)]
    gone = _participant(session, alpha, 6)
    session.add(Exit(participant_id=gone.id, exited_on=date(2025, 6, 30), exit_type="emploi_durable"))
    hidden = _participant(session, alpha, 7)
    hidden.anonymised_at = at(date(2025, 7, 1))

    _need(session, people[0], "langue")
    _need(session, people[1], "langue")
    _need(session, people[4], "langue")
    _need(session, people[2], "logement", "logement.social")
    _need(session, people[3], "logement", "logement.social")
    _need(session, people[0], "sante", status=NeedStatus.RESOLVED, resolved_on=date(2025, 5, 1))
    _need(session, gone, "langue")
    _need(session, hidden, "langue")
    session.flush()

    S = ReferralState
    day = date
    _referral(
        session,
        people[0],
        sante_opportunity,
        day(2026, 3, 1),
        [(S.SENT, day(2026, 3, 2)), (S.ACCEPTED, day(2026, 3, 4))],
    )
    _referral(
        session,
        people[1],
        sante_opportunity,
        day(2026, 3, 10),
        [(S.SENT, day(2026, 3, 10)), (S.WAITLISTED, day(2026, 3, 16)), (S.ACCEPTED, day(2026, 3, 20))],
    )
    _referral(
        session,
        people[2],
        sante_opportunity,
        day(2026, 4, 1),
        [(S.SENT, day(2026, 4, 1)), (S.ACCEPTED, day(2026, 4, 5))],
    )
    _referral(
        session,
        people[3],
        sante_opportunity,
        day(2025, 12, 15),
        [(S.SENT, day(2025, 12, 16)), (S.ACCEPTED, day(2025, 12, 20))],
    )
    _referral(
        session,
        people[4],
        logement_opportunity,
        day(2026, 5, 1),
        [(S.SENT, day(2026, 5, 2)), (S.REFUSED, day(2026, 5, 12))],
    )
    _referral(session, people[5], emploi_opportunity, day(2026, 5, 5), [(S.SENT, day(2026, 5, 6))])
    _referral(session, people[0], logement_opportunity, day(2026, 5, 7), [])
    session.flush()
    return Clairval(
        territory=territory,
        alpha=alpha,
        beta=beta,
        sante=sante,
        bailleur=bailleur,
        franprix=franprix,
        vinci=vinci,
        sante_opportunity=sante_opportunity,
        logement_opportunity=logement_opportunity,
        emploi_opportunity=emploi_opportunity,
        cp=cp,
        coordinator=coordinator,
        people=tuple(people),
    )


def every_name() -> list[str]:
    """Every participant's first and last name, for greps of responses."""
    return [part for pair in NAMES for part in pair]
