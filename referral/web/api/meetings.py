"""The network's meeting times (DESIGN §9): mutualisation meetings and their built agenda,
office hours (« permanences ») and collective workshops (« ateliers »)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.paging import page_of_list
from referral.partners import meetings, office_hours, workshops
from referral.web.auth import current_user, login_required
from referral.web.keys import pseudonym_key
from referral.web.paging import PAGE_HEADERS, PageQuerySchema, page_request, paged
from referral.web.request_session import db_session
from referral.web.schemas.meetings import (
    AgendaItemInSchema,
    AgendaItemSchema,
    AgendaSchema,
    BookingInSchema,
    MeetingInSchema,
    MeetingPatchSchema,
    MeetingSchema,
    NotesInSchema,
    OfficeHourInSchema,
    OfficeHourSchema,
    WorkshopInSchema,
    WorkshopPatchSchema,
    WorkshopSchema,
)

blp = Blueprint("meetings", __name__, description="Réunions de mutualisation, permanences, ateliers")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/territories/<slug>/meetings")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, MeetingSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_meetings(query: dict[str, Any], slug: str) -> Any:
    """Les réunions de mutualisation du territoire, de la plus récente à la plus ancienne."""
    return paged(
        page_of_list(meetings.list_meetings(db_session(), current_user(), slug), page_request(query))
    )


@blp.route("/territories/<slug>/meetings", methods=["POST"])
@blp.arguments(MeetingInSchema)
@blp.response(201, MeetingSchema)
@blp.doc(security=SECURITY)
@login_required
def create_meeting(payload: dict[str, Any], slug: str) -> Any:
    """Programmer une réunion (CP du territoire) ; son ordre du jour est construit aussitôt à
    partir de ce qui a changé depuis la réunion précédente."""
    return meetings.create_meeting(db_session(), current_user(), slug, payload)


@blp.route("/meetings/<int:meeting_id>")
@blp.response(200, MeetingSchema)
@blp.doc(security=SECURITY)
@login_required
def get_meeting(meeting_id: int) -> Any:
    return meetings.get_meeting(db_session(), current_user(), meeting_id)


@blp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@blp.arguments(MeetingPatchSchema)
@blp.response(200, MeetingSchema)
@blp.doc(security=SECURITY)
@login_required
def update_meeting(payload: dict[str, Any], meeting_id: int) -> Any:
    """Date, lieu, participant·es, compte rendu (`minutes`)."""
    return meetings.update_meeting(db_session(), current_user(), meeting_id, payload)


@blp.route("/meetings/<int:meeting_id>/agenda")
@blp.response(200, AgendaSchema)
@blp.doc(security=SECURITY)
@login_required
def get_agenda(meeting_id: int) -> Any:
    """L'ordre du jour : nouvelles opportunités et opportunités modifiées, suspendues, bientôt
    closes ou complètes, nouveaux partenaires, orientations et taux de réponse par partenaire
    depuis la réunion précédente (`since`–`until`), puis les points ajoutés par les CP."""
    return meetings.meeting_agenda(db_session(), current_user(), meeting_id)


@blp.route("/meetings/<int:meeting_id>/agenda", methods=["POST"])
@blp.response(200, AgendaSchema)
@blp.doc(security=SECURITY)
@login_required
def rebuild_agenda(meeting_id: int) -> Any:
    """Reconstruire la partie construite de l'ordre du jour (les points ajoutés restent)."""
    meeting = meetings.rebuild_agenda(db_session(), current_user(), meeting_id)
    return meetings.meeting_agenda(db_session(), current_user(), meeting.id)


@blp.route("/meetings/<int:meeting_id>/agenda/items", methods=["POST"])
@blp.arguments(AgendaItemInSchema)
@blp.response(201, AgendaItemSchema)
@blp.doc(security=SECURITY)
@login_required
def add_agenda_item(payload: dict[str, Any], meeting_id: int) -> Any:
    return meetings.add_agenda_item(db_session(), current_user(), meeting_id, payload)


@blp.route("/territories/<slug>/office-hours")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, OfficeHourSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_office_hours(query: dict[str, Any], slug: str) -> Any:
    """Les créneaux de permanence ; la personne concernée n'est nommée pour un·e CP qu'avec son
    accord (consentement « CP » / « identité et situation » en vigueur ce jour-là)."""
    slots = office_hours.list_office_hours(db_session(), current_user(), slug, pseudonym_key=pseudonym_key())
    return paged(page_of_list(slots, page_request(query)))


@blp.route("/office-hours", methods=["POST"])
@blp.arguments(OfficeHourInSchema)
@blp.response(201, OfficeHourSchema)
@blp.doc(security=SECURITY)
@login_required
def publish_office_hour(payload: dict[str, Any]) -> Any:
    """Proposer un créneau (CP), sur son territoire."""
    session, user = db_session(), current_user()
    slot = office_hours.publish_office_hour(session, user, payload)
    return office_hours.office_hour_view(session, user, slot.id, pseudonym_key=pseudonym_key())


@blp.route("/office-hours/<int:slot_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=SECURITY)
@login_required
def withdraw_office_hour(slot_id: int) -> Any:
    office_hours.withdraw_office_hour(db_session(), current_user(), slot_id)
    return None


@blp.route("/office-hours/<int:slot_id>/booking", methods=["POST"])
@blp.arguments(BookingInSchema)
@blp.response(200, OfficeHourSchema)
@blp.alt_response(409, description="Créneau déjà réservé ou passé.")
@blp.doc(security=SECURITY)
@login_required
def book_office_hour(payload: dict[str, Any], slot_id: int) -> Any:
    """Réserver un créneau libre au sujet d'un·e salarié·e de sa structure (CIP)."""
    session, user = db_session(), current_user()
    office_hours.book_office_hour(session, user, slot_id, payload)
    return office_hours.office_hour_view(session, user, slot_id, pseudonym_key=pseudonym_key())


@blp.route("/office-hours/<int:slot_id>/booking", methods=["DELETE"])
@blp.response(200, OfficeHourSchema)
@blp.doc(security=SECURITY)
@login_required
def cancel_office_hour_booking(slot_id: int) -> Any:
    session, user = db_session(), current_user()
    office_hours.cancel_office_hour_booking(session, user, slot_id)
    return office_hours.office_hour_view(session, user, slot_id, pseudonym_key=pseudonym_key())


@blp.route("/office-hours/<int:slot_id>/notes", methods=["POST"])
@blp.arguments(NotesInSchema)
@blp.response(200, OfficeHourSchema)
@blp.doc(security=SECURITY)
@login_required
def record_office_hour_notes(payload: dict[str, Any], slot_id: int) -> Any:
    """Les notes de la ou du CP après la permanence."""
    session, user = db_session(), current_user()
    office_hours.record_office_hour_notes(session, user, slot_id, payload["notes"])
    return office_hours.office_hour_view(session, user, slot_id, pseudonym_key=pseudonym_key())


@blp.route("/territories/<slug>/workshops")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, WorkshopSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_workshops(query: dict[str, Any], slug: str) -> Any:
    return paged(
        page_of_list(workshops.list_workshops(db_session(), current_user(), slug), page_request(query))
    )


@blp.route("/workshops", methods=["POST"])
@blp.arguments(WorkshopInSchema)
@blp.response(201, WorkshopSchema)
@blp.doc(security=SECURITY)
@login_required
def create_workshop(payload: dict[str, Any]) -> Any:
    """Enregistrer un atelier collectif (CP) ; la fréquentation se renseigne après l'atelier."""
    return workshops.create_workshop(db_session(), current_user(), payload)


@blp.route("/workshops/<int:workshop_id>", methods=["PATCH"])
@blp.arguments(WorkshopPatchSchema)
@blp.response(200, WorkshopSchema)
@blp.doc(security=SECURITY)
@login_required
def update_workshop(payload: dict[str, Any], workshop_id: int) -> Any:
    return workshops.update_workshop(db_session(), current_user(), workshop_id, payload)
