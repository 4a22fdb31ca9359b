"""`referral seed`: the programme's territories and worksites, through the services, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.cases.models import Contract, ContractKind, Participant
from referral.models import metadata
from referral.partners.models import NationalNetwork, Opportunity, Partner
from referral.seeding import seed_all
from referral.seeds import load_seed_file
from referral.territories.models import Role, Structure, Territory, User

TERRITORIES = {
    "paris",
    "lyon",
    "lille",
    "nantes",
    "strasbourg",
    "marseille",
    "rouen",
    "charente",
    "metz",
    "rennes",
    "somme",
    "seine-saint-denis",
}


def row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in metadata.sorted_tables
        if table.name != "audit_entries"
    }


def test_seeding_twice_changes_nothing(empty_session: Session) -> None:
    seed_all(empty_session, demo_participants=30, random_seed=3)
    empty_session.flush()
    first = row_counts(empty_session)
    assert first["participants"] == 30
    assert first["territories"] == 12

    seed_all(empty_session, demo_participants=30, random_seed=3)
    empty_session.flush()
    assert row_counts(empty_session) == first
    # Nothing was even touched: a second load writes no row.
    assert not empty_session.dirty
    assert not empty_session.new


def test_more_demo_people_adds_only_the_new_ones(empty_session: Session) -> None:
    seed_all(empty_session, demo_participants=10, random_seed=5)
    names_before = set(
        empty_session.execute(select(Participant.first_name, Participant.last_name, Participant.birth_date))
    )
    seed_all(empty_session, demo_participants=15, random_seed=5)
    names_after = set(
        empty_session.execute(select(Participant.first_name, Participant.last_name, Participant.birth_date))
    )
    assert names_before < names_after
    assert len(names_after) == 15


def test_the_twelve_territories_with_their_names(session: Session) -> None:
    territories = {t.slug: t.name for t in session.scalars(select(Territory))}
    assert set(territories) == TERRITORIES
    assert territories["lyon"] == "Métropole de Lyon"


def test_premieres_heures_worksites_of_the_annex(session: Session) -> None:
    annex = [item for item in load_seed_file("structures.toml")["structure"] if item.get("annex")]
    # The annex announces 51 worksites but lists 49 legible distinct rows (the last OCR line
    # duplicates Nice); the seed holds those 49, no invented ones.
    assert len(annex) == 49
    stored = {(s.name, s.town): s for s in session.scalars(select(Structure))}
    for item in annex:
        structure = stored[(item["name"], item["town"])]
        assert structure.carries_phc
        assert structure.region == item["region"]
    regions = {item["region"] for item in annex}
    # The OCR slips of the annex are mended.
    assert "Nouvelle Aquitume" not in regions
    assert "Occitative" not in regions
    assert {"Hauts-de-France", "Nouvelle-Aquitaine", "Provence-Alpes-Côte d'Azur"} <= regions
    assert stored[("FNDSA", "Lyon")].territory.slug == "lyon"
    assert stored[("Emmaüs Mundo", "Strasbourg")].territory.slug == "strasbourg"
    assert stored[("Iniziativa", "Ajaccio")].territory is None  # no Convergence territory there


def test_national_partners_deployed_where_the_report_says(session: Session) -> None:
    franprix = session.scalars(select(Partner).where(Partner.national_network_code == "franprix")).all()
    deployed = {link.territory.slug for partner in franprix for link in partner.territory_links}
    assert {"paris", "lyon", "marseille"} <= deployed
    cpam_territories = {
        link.territory.slug
        for partner in session.scalars(select(Partner).where(Partner.kind == "cpam"))
        for link in partner.territory_links
    }
    assert cpam_territories == TERRITORIES
    assert session.get(NationalNetwork, "cdc_habitat") is not None
    opportunities = session.scalars(select(Opportunity).where(Opportunity.domain_code == "emploi")).all()
    assert any(
        criterion.field == "programme" for opportunity in opportunities for criterion in opportunity.criteria
    )


def test_demo_accounts_for_lyon(session: Session) -> None:
    lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
    users = session.scalars(select(User).where(User.email.like("%@demo.convergence.test"))).all()
    roles = sorted(user.role.value for user in users)
    assert roles == ["admin", "cip", "cip", "coordinator", "cp", "cp", "cp"]
    cps = [user for user in users if user.role is Role.CP]
    assert all(user.territory_id == lyon.id for user in cps)
    assert {"emploi", "logement"} <= {code for user in cps for code in user.domain_codes}
    cip_structures = {user.structure_id for user in users if user.role is Role.CIP}
    assert len(cip_structures) == 2
    assert all(session.get(Structure, sid).territory_id == lyon.id for sid in cip_structures)
    assert all(user.password_hash and user.password_hash.startswith("scrypt:") for user in users)


def test_generated_people_follow_the_programme_rules(session: Session) -> None:
    people = session.scalars(select(Participant)).all()
    assert people
    for person in people:
        structure = person.structure
        assert person.programme in structure.programmes
        assert person.needs, "every generated person has at least one need"
        contracts = sorted(person.contracts, key=lambda c: c.starts_on)
        for earlier, later in zip(contracts, contracts[1:], strict=False):
            assert earlier.ends_on is not None
            assert earlier.ends_on < later.starts_on
        for contract in contracts:
            if contract.kind is ContractKind.CDDI_PHC:
                assert 4 <= contract.weekly_hours <= 20
    phc_hours = session.scalars(
        select(Contract.weekly_hours).where(Contract.kind == ContractKind.CDDI_PHC)
    ).all()
    assert min(phc_hours) == 4


def _versions_and_audit(session: Session) -> tuple[list[int], int, int]:
    from referral.audit.models import AuditEntry
    from referral.partners.models import OpportunityRevision

    return (
        list(session.scalars(select(Opportunity.version).order_by(Opportunity.id))),
        session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        session.scalar(select(func.count()).select_from(OpportunityRevision)) or 0,
    )


def test_the_lived_in_demo_is_idempotent(empty_session: Session) -> None:
    """A second `referral seed` changes no row, no opportunity version and writes no audit row
    (a CP editing an offer after a re-seed must not get a 409)."""
    from referral.referrals.models import Referral, ReferralState

    seed_all(empty_session, demo_participants=30, random_seed=3)
    empty_session.flush()
    counts, marks = row_counts(empty_session), _versions_and_audit(empty_session)
    states = set(empty_session.scalars(select(Referral.state)))
    assert states == set(ReferralState)  # a referral in every state, with its moves
    # Where the person has a need in the offer's domain, the demo referral answers it (the CP's
    # queues say « frein : … »), as a CIP's accepted proposal records it.
    answering = empty_session.scalars(select(Referral).where(Referral.need_id.is_not(None))).all()
    assert answering
    assert all(referral.need.domain_code == referral.opportunity.domain_code for referral in answering)

    seed_all(empty_session, demo_participants=30, random_seed=3)
    empty_session.flush()
    assert row_counts(empty_session) == counts
    assert _versions_and_audit(empty_session) == marks
    assert not empty_session.dirty
    assert not empty_session.new


def test_after_the_seed_and_the_jobs_every_demo_queue_has_an_item(empty_session: Session) -> None:
    """What `make run` does (seed, then each job once): every demo role finds work waiting."""
    from referral import clock
    from referral.cases import listing
    from referral.paging import FIRST_PAGE
    from referral.partners import meetings, office_hours, workshops
    from referral.referrals import services as referrals
    from referral.scheduling.jobs import JOBS
    from referral.tasks import queries as tasks
    from referral.territories.queries import user_by_email
    from tests.helpers import DEMO

    seed_all(empty_session, demo_participants=40, random_seed=11)
    for job in JOBS:
        job.run(empty_session, clock.now())
    empty_session.flush()

    cip = user_by_email(empty_session, DEMO["cip"])
    assert listing.participants_page(empty_session, cip, FIRST_PAGE).items
    assert referrals.list_referrals(empty_session, cip, states=referrals.CIP_TO_ACT_ON)
    assert office_hours.list_office_hours(empty_session, cip, "lyon", pseudonym_key=b"k", upcoming_only=True)
    for who in ("cp_emploi", "cp_sante", "cp_logement"):
        cp = user_by_email(empty_session, DEMO[who])
        assert referrals.list_referrals(empty_session, cp, states=referrals.CP_TO_ACT_ON), who
        assert referrals.list_referrals(empty_session, cp, states=referrals.CP_WAITING_ON_PARTNER), who
        listed = tasks.tasks_of(empty_session, cp)
        assert listed.due or listed.overdue or tasks.notifications_of(empty_session, cp), who
    coordinator = user_by_email(empty_session, DEMO["coordinator"])
    held = meetings.list_meetings(empty_session, coordinator, "lyon")
    assert any(m.minutes for m in held)
    assert any(m.agenda_items for m in held)
    assert workshops.list_workshops(empty_session, coordinator, "lyon")
    slots = office_hours.list_office_hours(empty_session, coordinator, "lyon", pseudonym_key=b"k")
    assert len(slots) >= 2
