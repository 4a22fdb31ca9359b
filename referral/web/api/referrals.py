"""The referral loop (DESIGN §7 and §9)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_smorest import Blueprint

from referral.exceptions import InvalidInput
from referral.referrals import drafts, matching_index, services
from referral.referrals.models import ReferralState
from referral.referrals.sharing import SharedToday
from referral.web.auth import current_user, login_required
from referral.web.paging import PAGE_HEADERS, page_headers, page_request
from referral.web.request_session import db_session
from referral.web.schemas.referrals import (
    DraftConsentsSchema,
    ProposalQuerySchema,
    ReferralCreateSchema,
    ReferralQuerySchema,
    ReferralSchema,
    ReferralWithDossierSchema,
    ReverseMatchSchema,
    StateSchema,
    TransitionInSchema,
    WithdrawnSchema,
)

blp = Blueprint("referrals", __name__, description="Orientations")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


# Built once: a schema per referral cost as much as the dump of a page (issue 20).
_PLAIN = ReferralSchema()
_WITH_DOSSIER = ReferralWithDossierSchema()
_WITHDRAWN = WithdrawnSchema(many=True)


def _dump(referral: Any, shared: SharedToday | None) -> dict[str, Any]:
    """A referral, with the dossier as the person's consent allows today for those who see it."""
    if shared is None:
        return _PLAIN.dump(referral)
    body = _WITH_DOSSIER.dump(referral)
    body["shared_dossier"] = shared.dossier
    body["withdrawn"] = _WITHDRAWN.dump(shared.withdrawn)
    return body


@blp.route("/referrals", methods=["POST"])
@blp.arguments(ReferralCreateSchema)
@blp.response(201, StateSchema)
@blp.doc(security=SECURITY)
@login_required
def create_referral(payload: dict[str, Any]) -> Any:
    """Accepter une proposition : une orientation à l'état brouillon (refusée, avec les raisons,
    si la personne ne remplit plus les critères)."""
    return services.create_referral(db_session(), current_user(), **payload)


@blp.route("/referrals", methods=["GET"])
@blp.arguments(ReferralQuerySchema, location="query")
@blp.alt_response(
    200,
    schema=ReferralWithDossierSchema(many=True),
    success=True,
    description="Avec `comment`, `shared_dossier` et `withdrawn` pour la ou le CIP et les CP qui "
    "suivent l'orientation (le dossier tel que le consentement le permet ce jour-là) ; une page à la "
    "fois (`limit`, `page`, en-têtes `Link` et `X-Total-Count`).",
    headers=PAGE_HEADERS,
)
@blp.doc(security=SECURITY)
@login_required
def list_referrals(query: dict[str, Any]) -> Any:
    """Les orientations du périmètre, avec leurs transitions (`?state=submitted`), les plus
    récemment modifiées d'abord."""
    states = []
    if query.get("state"):
        try:
            states = [ReferralState(query["state"])]
        except ValueError:
            raise InvalidInput(
                "État inconnu.", errors={"state": [f"« {query['state']} » n'est pas un état."]}
            ) from None
    session, user = db_session(), current_user()
    page = services.referrals_page(
        session, user, page_request(query), states=states, territory_slug=query.get("territory")
    )
    shared = services.shared_dossiers(session, user, page.items)
    return (
        jsonify([_dump(referral, shared.get(referral.id)) for referral in page.items]),
        200,
        page_headers(page),
    )


@blp.route("/referrals/<int:referral_id>", methods=["GET"])
@blp.alt_response(
    200,
    schema=ReferralWithDossierSchema,
    success=True,
    description="`shared_dossier` seulement pour la ou le CIP et les CP qui suivent l'orientation.",
)
@blp.doc(security=SECURITY)
@login_required
def get_referral(referral_id: int) -> Any:
    session, user = db_session(), current_user()
    referral = services.get_referral(session, user, referral_id)
    return jsonify(_dump(referral, services.shared_dossier(session, user, referral)))


@blp.route("/referrals/<int:referral_id>/transitions", methods=["POST"])
@blp.arguments(TransitionInSchema)
@blp.response(200, StateSchema)
@blp.alt_response(409, description="État, rôle ou version ne permettent pas cette action.")
@blp.doc(security=SECURITY)
@login_required
def move(payload: dict[str, Any], referral_id: int) -> Any:
    """Faire avancer une orientation : `{action, version, reason?, comment?, outcome?}`."""
    return services.transition(db_session(), current_user(), referral_id, **payload)


@blp.route("/referrals/<int:referral_id>/consents", methods=["POST"])
@blp.arguments(DraftConsentsSchema)
@blp.response(200, StateSchema)
@blp.alt_response(
    409, description="État, rôle ou version ne permettent pas de soumettre : rien n'est enregistré."
)
@blp.alt_response(
    422, description="Accord de la personne manquant, ou consentement non demandé par l'orientation."
)
@blp.doc(security=SECURITY)
@login_required
def record_consents(payload: dict[str, Any], referral_id: int) -> Any:
    """Enregistrer, depuis le brouillon, les consentements que l'orientation demande
    (`consents`: « cp:situation », « partner:resources »…, avec `agreed` et `given_on`), puis la
    soumettre (`submit`, par défaut) : tout ou rien."""
    session, user = db_session(), current_user()
    values = {"keys": payload["consents"], "agreed": payload["agreed"], "given_on": payload["given_on"]}
    if payload["submit"]:
        return drafts.record_consents_and_submit(
            session, user, referral_id, version=payload["version"], comment=payload["comment"], **values
        )
    return drafts.record_consents(session, user, referral_id, **values)


@blp.route("/participants/<int:participant_id>/proposals", methods=["GET"])
@blp.arguments(ProposalQuerySchema, location="query")
@blp.doc(security=SECURITY)
@blp.response(200)
@login_required
def participant_proposals(query: dict[str, Any], participant_id: int) -> Any:
    """Propositions d'orientation classées et expliquées : `{eligible: [...], near_misses: [...]}`,
    et, frein par frein dans l'ordre de priorité, `by_need` (avec la phrase `gap` quand rien
    d'éligible n'y répond), `others` (ce qui ne répond à aucun frein) et `gaps`. Chaque proposition
    nomme le frein auquel elle répond : `answers_need: {id, domain, subtype, priority, label}`."""
    ranked = matching_index.proposals(db_session(), current_user(), participant_id)
    return ranked.to_dict(limit=query["limit"])


@blp.route("/opportunities/<int:opportunity_id>/matches", methods=["GET"])
@blp.response(200, ReverseMatchSchema)
@blp.doc(security=SECURITY)
@login_required
def opportunity_matches(opportunity_id: int) -> Any:
    """Qui correspond à l'opportunité : nombres par structure (CP, coordination), ou les
    salarié·es de sa propre structure (CIP)."""
    return matching_index.reverse_matches(db_session(), current_user(), opportunity_id)
