"""What the office hours add to a person's record: their section of the right-of-access export
and their part in the record's anonymisation. `cases` does not read office hours (`partners`
imports `cases`, never the reverse), so it declares registries (`referral.cases.providers`) and
`install()` fills them; `create_app` and the test conftest call it, as they call
`audit.install()`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referral.cases import export, retention
from referral.cases.export import ExportPart, Names, iso
from referral.cases.models import Participant
from referral.partners.models import OfficeHour


def export_section(session: Session, person: Participant) -> ExportPart:
    """The office-hour slots booked for the person."""
    office_hours = session.scalars(
        select(OfficeHour)
        .where(OfficeHour.participant_id == person.id)
        .order_by(OfficeHour.starts_at, OfficeHour.id)
    ).all()

    def render(names: Names) -> list[dict[str, Any]]:
        return [
            {
                "starts_at": iso(slot.starts_at),
                "ends_at": iso(slot.ends_at),
                "place": slot.place,
                "with": names.get(slot.cp_id),
                "booked_by": names.get(slot.booked_by_id),
                "topic": slot.topic,
                "notes_after": slot.notes_after,
            }
            for slot in office_hours
        ]

    return ExportPart(
        [*(slot.cp_id for slot in office_hours), *(slot.booked_by_id for slot in office_hours)], render
    )


def anonymise(session: Session, participant_id: int) -> list[str]:
    """Blank the topic and the notes of the person's office hours (the slots stay, for the CPs'
    figures). No page of theirs names the person."""
    session.execute(
        update(OfficeHour)
        .where(OfficeHour.participant_id == participant_id)
        .values(topic=None, notes_after=None),
        execution_options={"synchronize_session": False},
    )
    return []


def install() -> None:
    """Register what office hours add to the record. Idempotent; called by `create_app` and the
    tests."""
    export.register_export_section("office_hours", export_section)
    retention.register_retention_part("office_hours", retention.RetentionPart(anonymise))
