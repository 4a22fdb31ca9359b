"""Case records in the caller's scope (only a structure's CIPs open named records)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from werkzeug.wrappers import Response

from referral.cases import entry_situation, listing, services
from referral.cases import path as case_path
from referral.cases import timeline as record_timeline
from referral.cases import transfers as case_transfers
from referral.paging import page_of_list
from referral.web.auth import current_user, login_required
from referral.web.paging import PAGE_HEADERS, PageQuerySchema, page_request, paged
from referral.web.request_session import db_session
from referral.web.schemas.participants import (
    ConsentInSchema,
    ConsentRevokeSchema,
    ConsentSchema,
    ContractInSchema,
    ContractSchema,
    EntryCorrectionSchema,
    EntrySituationSchema,
    ExitInSchema,
    ExitSchema,
    FollowUpInSchema,
    FollowUpSchema,
    HealthSchema,
    HealthUpdateSchema,
    NeedInSchema,
    NeedPatchSchema,
    NeedSchema,
    NoteInSchema,
    NoteSchema,
    ParticipantCreateSchema,
    ParticipantDetailSchema,
    ParticipantPatchSchema,
    ParticipantSchema,
    RecordExportSchema,
    ReferentInSchema,
    ReferentSchema,
    RenewalDecisionInSchema,
    RenewalInSchema,
    RenewalSchema,
    TimelineEventSchema,
    TransferDecisionSchema,
    TransferInSchema,
    TransferRequestedSchema,
    TransferSchema,
)
from referral.web.views.cases import export_download

blp = Blueprint("participants", __name__, description="Dossiers des salarié·es")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/participants", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, ParticipantSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_participants(query: dict[str, Any]) -> Any:
    """Les salarié·es accompagné·es par la structure de la ou du CIP, par nom, une page à la fois
    (`limit`, `page`, en-têtes `Link` et `X-Total-Count`)."""
    return paged(listing.participants_page(db_session(), current_user(), page_request(query)))


@blp.route("/participants", methods=["POST"])
@blp.arguments(ParticipantCreateSchema)
@blp.response(201, ParticipantDetailSchema)
@blp.alt_response(
    409,
    description="Personne probablement déjà suivie, dans sa propre structure (`same_structure`, avec "
    "`participant_id`) ou par une autre : `candidates`, sauf avec `confirm_new`.",
)
@blp.doc(security=SECURITY)
@login_required
def create_participant(payload: dict[str, Any]) -> Any:
    """Ouvrir un dossier dans sa structure (409 avec `candidates` si la personne semble déjà
    suivie ailleurs dans le territoire, sauf `confirm_new: true`)."""
    confirm_new = payload.pop("confirm_new")
    return services.create_participant(db_session(), current_user(), payload, confirm_new=confirm_new)


@blp.route("/participants/<int:participant_id>", methods=["GET"])
@blp.response(200, ParticipantDetailSchema)
@blp.doc(security=SECURITY)
@login_required
def get_participant(participant_id: int) -> Any:
    """Un dossier ; 404 s'il n'existe pas ou n'est pas dans le périmètre (même réponse)."""
    return services.get_participant(db_session(), current_user(), participant_id)


@blp.route("/participants/<int:participant_id>", methods=["PATCH"])
@blp.arguments(ParticipantPatchSchema)
@blp.response(200, ParticipantDetailSchema)
@blp.doc(security=SECURITY)
@login_required
def update_participant(payload: dict[str, Any], participant_id: int) -> Any:
    payload.pop("confirm_new", None)
    return services.update_participant(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/entry-situation", methods=["PATCH"])
@blp.arguments(EntryCorrectionSchema)
@blp.response(200, EntrySituationSchema)
@blp.doc(security=SECURITY)
@login_required
def correct_entry_situation(payload: dict[str, Any], participant_id: int) -> Any:
    """Corriger la situation à l'entrée (logement, couverture santé, médecin traitant) enregistrée
    par erreur, avec un motif obligatoire (`reason`) : seuls ces champs changent, la situation
    actuelle reste celle du dossier ; la correction est inscrite au journal avec l'ancienne et la
    nouvelle valeur. 422 sans motif, avec un code inconnu ou sans rien à corriger."""
    return entry_situation.correct_entry_situation(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/contracts", methods=["POST"])
@blp.arguments(ContractInSchema)
@blp.response(201, ContractSchema)
@blp.doc(security=SECURITY)
@login_required
def add_contract(payload: dict[str, Any], participant_id: int) -> Any:
    """Ajouter un contrat (règles : PHC 4–20 h progressif, 35 h au plus en cumul CDI + CDDI,
    pas de chevauchement d'un même type, pas au-delà de la fin de parcours autorisée)."""
    return services.add_contract(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/needs", methods=["POST"])
@blp.arguments(NeedInSchema)
@blp.response(201, NeedSchema)
@blp.doc(security=SECURITY)
@login_required
def add_need(payload: dict[str, Any], participant_id: int) -> Any:
    return services.add_need(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/needs/<int:need_id>", methods=["PATCH"])
@blp.arguments(NeedPatchSchema)
@blp.response(200, NeedSchema)
@blp.doc(security=SECURITY)
@login_required
def update_need(payload: dict[str, Any], participant_id: int, need_id: int) -> Any:
    return services.update_need(db_session(), current_user(), participant_id, need_id, payload)


@blp.route("/participants/<int:participant_id>/consents", methods=["POST"])
@blp.arguments(ConsentInSchema)
@blp.response(201, ConsentSchema)
@blp.doc(security=SECURITY)
@login_required
def record_consent(payload: dict[str, Any], participant_id: int) -> Any:
    return services.record_consent(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/consents/<int:consent_id>/revoke", methods=["POST"])
@blp.arguments(ConsentRevokeSchema)
@blp.response(200, ConsentSchema)
@blp.doc(security=SECURITY)
@login_required
def revoke_consent(payload: dict[str, Any], participant_id: int, consent_id: int) -> Any:
    return services.revoke_consent(
        db_session(), current_user(), participant_id, consent_id, payload["revoked_on"]
    )


@blp.route("/participants/<int:participant_id>/referents", methods=["POST"])
@blp.arguments(ReferentInSchema)
@blp.response(201, ReferentSchema)
@blp.doc(security=SECURITY)
@login_required
def add_referent(payload: dict[str, Any], participant_id: int) -> Any:
    return services.add_referent(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/notes", methods=["POST"])
@blp.arguments(NoteInSchema)
@blp.response(201, NoteSchema)
@blp.doc(security=SECURITY)
@login_required
def add_note(payload: dict[str, Any], participant_id: int) -> Any:
    return services.add_note(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.doc(security=SECURITY)
@login_required
def get_health(participant_id: int) -> Any:
    """Les informations de santé, tenues à part du dossier (CIP de la structure seulement)."""
    record = services.get_health(db_session(), current_user(), participant_id)
    return record or {
        "has_treating_doctor": False,
        "had_treating_doctor_first": False,
        "rqth": False,
        "css": False,
        "psychological_follow_up": False,
    }


@blp.route("/participants/<int:participant_id>/health", methods=["PUT"])
@blp.arguments(HealthUpdateSchema)
@blp.response(200, HealthSchema)
@blp.doc(security=SECURITY)
@login_required
def update_health(payload: dict[str, Any], participant_id: int) -> Any:
    return services.update_health(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/renewals", methods=["POST"])
@blp.arguments(RenewalInSchema)
@blp.response(201, RenewalSchema)
@blp.doc(security=SECURITY)
@login_required
def request_renewal(payload: dict[str, Any], participant_id: int) -> Any:
    """Demande motivée de renouvellement (parcours Convergence, à partir de la troisième année)."""
    return case_path.request_renewal(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/renewals/<int:renewal_id>/decision", methods=["POST"])
@blp.arguments(RenewalDecisionInSchema)
@blp.response(200, RenewalSchema)
@blp.doc(security=SECURITY)
@login_required
def decide_renewal(payload: dict[str, Any], participant_id: int, renewal_id: int) -> Any:
    return case_path.decide_renewal(db_session(), current_user(), participant_id, renewal_id, payload)


@blp.route("/participants/<int:participant_id>/exit", methods=["POST"])
@blp.arguments(ExitInSchema)
@blp.response(201, ExitSchema)
@blp.doc(security=SECURITY)
@login_required
def record_exit(payload: dict[str, Any], participant_id: int) -> Any:
    """Enregistrer la sortie ; les suivis à 6 et 12 mois sont créés avec elle."""
    return case_path.record_exit(db_session(), current_user(), participant_id, payload)


@blp.route("/participants/<int:participant_id>/followups", methods=["POST"])
@blp.arguments(FollowUpInSchema)
@blp.response(200, FollowUpSchema)
@blp.doc(security=SECURITY)
@login_required
def record_follow_up(payload: dict[str, Any], participant_id: int) -> Any:
    follow_up_id = payload.pop("follow_up_id")
    return case_path.record_follow_up(db_session(), current_user(), participant_id, follow_up_id, payload)


@blp.route("/participants/<int:participant_id>/timeline", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, TimelineEventSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def timeline(query: dict[str, Any], participant_id: int) -> Any:
    """Tous les événements du dossier, dans l'ordre des dates, une page à la fois."""
    events = record_timeline.timeline(db_session(), current_user(), participant_id)
    return paged(page_of_list(events, page_request(query)))


@blp.route("/participants/<int:participant_id>/export", methods=["GET"])
@blp.alt_response(
    200,
    schema=RecordExportSchema,
    success=True,
    description="Le dossier complet en pièce jointe `dossier-<id>-<AAAA-MM-JJ>.json`.",
)
@blp.doc(security=SECURITY)
@login_required
def export_record(participant_id: int) -> Response:
    """Tout ce que le service conserve sur la personne, pour son droit d'accès (RGPD, art. 15) :
    dossier, santé, orientations et liste des accès. L'export est lui-même journalisé ; 404 hors
    du périmètre comme pour un dossier inexistant."""
    return export_download(participant_id)


@blp.route("/transfers", methods=["POST"])
@blp.arguments(TransferInSchema)
@blp.response(202, TransferRequestedSchema)
@blp.doc(security=SECURITY)
@login_required
def request_transfer(payload: dict[str, Any]) -> Any:
    """Demander le transfert du dossier d'une personne suivie par une autre structure du
    territoire, en la nommant (nom, prénom, date de naissance) : la réponse est la même qu'une
    telle personne existe ou non ; la structure qui la suit reçoit la demande."""
    case_transfers.request_transfer(db_session(), current_user(), **payload)
    return {"detail": case_transfers.TRANSFER_REQUESTED}


@blp.route("/transfers", methods=["GET"])
@blp.response(200, TransferSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def pending_transfers() -> Any:
    """Les demandes de transfert auxquelles sa structure doit répondre, avec la structure qui
    demande (`to_structure_name`)."""
    return case_transfers.pending_transfers(db_session(), current_user())


@blp.route("/transfers/<int:transfer_id>/decision", methods=["POST"])
@blp.arguments(TransferDecisionSchema)
@blp.response(200, TransferSchema)
@blp.doc(security=SECURITY)
@login_required
def decide_transfer(payload: dict[str, Any], transfer_id: int) -> Any:
    return case_transfers.decide_transfer(db_session(), current_user(), transfer_id, accept=payload["accept"])
