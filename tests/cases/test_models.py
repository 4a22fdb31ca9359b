"""The case-record tables refuse what breaks the programme rules, whoever writes the row."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from referral.cases.models import (
    Consent,
    ConsentRecipient,
    Contract,
    ContractKind,
    DataCategory,
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
from referral.territories.models import Structure
from tests import factories
from tests.helpers import accepted_by_database, refused_by_database


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("household_size", 0),
        ("children", 1),  # a household of one has no child in it
        ("monthly_resources", -1),
        ("first_name", ""),
        ("birth_date", date(2025, 2, 1)),  # born after entering the programme
        ("structure_id", 999_999),
    ],
)
def test_participant_refuses_impossible_values(session: Session, column: str, value: object) -> None:
    person = factories.participant(session)
    refused_by_database(
        session,
        lambda: session.execute(
            update(Participant).where(Participant.id == person.id).values({column: value})
        ),
    )


def test_participant_programme_must_be_known_to_the_database(session: Session) -> None:
    person = factories.participant(session)
    refused_by_database(
        session,
        lambda: session.execute(
            text("UPDATE participants SET programme = 'XYZ' WHERE id = :id"), {"id": person.id}
        ),
    )


@pytest.mark.parametrize(
    ("kind", "hours", "employer", "accepted"),
    [
        (ContractKind.CDDI_PHC, 4, None, True),  # PHC starts at 4 h
        (ContractKind.CDDI_PHC, 20, None, True),  # and goes up to 20 h
        (ContractKind.CDDI_PHC, 3.5, None, False),
        (ContractKind.CDDI_PHC, 21, None, False),
        (ContractKind.CDDI, 35, None, True),
        (ContractKind.CDDI, 35.5, None, False),
        (ContractKind.CDDI_CVG, 12, None, True),  # under 20 h allowed since the 2021 decrees
        (ContractKind.CDDI, 0, None, False),
        (ContractKind.CDI, 10, "Franprix", True),
        (ContractKind.CDI, 10, None, False),  # a CDI names its employer
        (ContractKind.CDDI, 26, "Franprix", False),  # an insertion contract has no outside employer
    ],
)
def test_contract_hours_and_employer(
    session: Session, kind: ContractKind, hours: float, employer: str | None, accepted: bool
) -> None:
    person = factories.participant(session)

    def add() -> None:
        session.add(
            Contract(
                participant_id=person.id,
                kind=kind,
                weekly_hours=hours,
                employer_name=employer,
                starts_on=date(2025, 2, 1),
            )
        )

    (accepted_by_database if accepted else refused_by_database)(session, add)


def test_contract_cannot_end_before_it_starts(session: Session) -> None:
    person = factories.participant(session)
    refused_by_database(
        session,
        lambda: factories.contract(
            session, participant_id=person.id, starts_on=date(2025, 3, 1), ends_on=date(2025, 2, 28)
        ),
    )
    accepted_by_database(
        session,
        lambda: factories.contract(
            session, participant_id=person.id, starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 1)
        ),
    )


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"priority": 1}, True),
        ({"priority": 3}, True),
        ({"priority": 0}, False),
        ({"priority": 4}, False),
        ({"status": NeedStatus.RESOLVED}, False),  # resolved needs a date
        ({"status": NeedStatus.RESOLVED, "resolved_on": date(2025, 2, 1)}, True),
        ({"status": NeedStatus.OPEN, "resolved_on": date(2025, 2, 1)}, False),
        ({"status": NeedStatus.RESOLVED, "resolved_on": date(2024, 12, 1)}, False),  # before it opened
        ({"domain_code": "inconnu"}, False),
        ({"subtype_code": "logement.inconnu"}, False),
        ({"subtype_code": "logement.social"}, True),
    ],
)
def test_need_rules(session: Session, overrides: dict[str, object], accepted: bool) -> None:
    person = factories.participant(session)
    action = lambda: factories.need(session, participant_id=person.id, **overrides)  # noqa: E731
    (accepted_by_database if accepted else refused_by_database)(session, action)


def test_consent_names_a_partner_only_for_partners(session: Session) -> None:
    person = factories.participant(session)
    partner = factories.partner(session)

    def consent(recipient: ConsentRecipient, **extra: object) -> None:
        session.add(
            Consent(
                participant_id=person.id,
                recipient=recipient,
                data_category=DataCategory.RESOURCES,
                given_on=date(2025, 1, 10),
                **extra,
            )
        )

    refused_by_database(session, lambda: consent(ConsentRecipient.CP, partner_id=partner.id))
    accepted_by_database(session, lambda: consent(ConsentRecipient.PARTNER, partner_id=partner.id))
    refused_by_database(session, lambda: consent(ConsentRecipient.CP, revoked_on=date(2025, 1, 9)))
    accepted_by_database(session, lambda: consent(ConsentRecipient.CP, revoked_on=date(2025, 1, 10)))


def test_one_health_record_per_person(session: Session) -> None:
    person = factories.participant(session)
    accepted_by_database(session, lambda: session.add(HealthRecord(participant_id=person.id, rqth=True)))
    refused_by_database(session, lambda: session.add(HealthRecord(participant_id=person.id)))


def test_renewal_decision_rules(session: Session) -> None:
    person = factories.participant(session)

    def renewal(**values: object) -> None:
        values.setdefault("motivation", "Motivée")
        session.add(RenewalDecision(participant_id=person.id, requested_on=date(2027, 1, 1), **values))

    accepted_by_database(session, lambda: renewal())
    refused_by_database(
        session, lambda: renewal(outcome=RenewalOutcome.PENDING, decided_on=date(2027, 1, 20))
    )
    refused_by_database(
        session, lambda: renewal(outcome=RenewalOutcome.GRANTED, decided_on=date(2027, 1, 20))
    )
    accepted_by_database(
        session,
        lambda: renewal(
            outcome=RenewalOutcome.GRANTED, decided_on=date(2027, 1, 20), valid_until=date(2028, 1, 6)
        ),
    )
    refused_by_database(session, lambda: renewal(motivation=""))


def test_follow_ups_one_per_kind_and_outcome_with_date(session: Session) -> None:
    person = factories.participant(session)
    exit_row = Exit(participant_id=person.id, exited_on=date(2026, 1, 5), exit_type="cdi")
    session.add(exit_row)
    session.flush()

    def follow_up(kind: FollowUpKind, **values: object) -> None:
        session.add(
            FollowUp(
                participant_id=person.id, exit_id=exit_row.id, kind=kind, due_on=date(2026, 7, 5), **values
            )
        )

    accepted_by_database(session, lambda: follow_up(FollowUpKind.SIX_MONTHS))
    refused_by_database(session, lambda: follow_up(FollowUpKind.SIX_MONTHS))
    refused_by_database(session, lambda: follow_up(FollowUpKind.TWELVE_MONTHS, done_on=date(2027, 1, 5)))
    accepted_by_database(
        session,
        lambda: follow_up(
            FollowUpKind.TWELVE_MONTHS, done_on=date(2027, 1, 5), outcome="emploi_meme_employeur"
        ),
    )
    # One exit per person.
    refused_by_database(
        session,
        lambda: session.add(Exit(participant_id=person.id, exited_on=date(2026, 2, 1), exit_type="cdi")),
    )


def test_deleting_a_person_removes_their_record_but_a_structure_with_people_stays(session: Session) -> None:
    person = factories.participant(session)
    factories.need(session, participant_id=person.id)
    factories.contract(session, participant_id=person.id)
    refused_by_database(
        session, lambda: session.execute(delete(Structure).where(Structure.id == person.structure_id))
    )
    session.execute(delete(Participant).where(Participant.id == person.id))
    assert session.scalar(select(func.count()).select_from(Need).where(Need.participant_id == person.id)) == 0
    assert (
        session.scalar(select(func.count()).select_from(Contract).where(Contract.participant_id == person.id))
        == 0
    )
