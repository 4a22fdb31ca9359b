"""The referral loop (« orientation »): accepting a proposal, moving through the lifecycle table,
what is shared with the CP and the partner, and the lists each role works from.

Services take the acting user, check role and scope, apply the guards of DESIGN §7, write one
`ReferralTransition` per move, flush, and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, exists, false, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from referral import clock
from referral.access import offered_in_territory, opportunity_filter
from referral.audit.services import ReadEntry, record_reads, record_refusal
from referral.cases import services as cases
from referral.cases.models import Need, NeedStatus, Participant
from referral.db import on_commit, rowcount, utcnow
from referral.exceptions import InvalidInput
from referral.matching.scoring import answer_kind, relevance_rank
from referral.matching.snapshot import OpenNeed
from referral.paging import Page, PageRequest, page_of
from referral.partners.models import Opportunity
from referral.reference import queries as reference
from referral.referrals.exceptions import (
    BadTransitionInput,
    CapacityExhausted,
    NotEligible,
    OpportunityUnavailable,
    ReferralNotFound,
    StaleVersion,
    TransitionNotAllowed,
)
from referral.referrals.lifecycle import TRANSITIONS, Transition, require_open
from referral.referrals.matching_index import blocking_reasons, forget_index
from referral.referrals.models import (
    ACTIVE_STATES,
    HOLDS_PLACE,
    WAITING_STATES,
    Referral,
    ReferralState,
    ReferralTransition,
)
from referral.referrals.sharing import SECTION_CATEGORIES, SharedToday, build_dossier, dossiers_on
from referral.referrals.wording import need_labels, need_text, sender_text
from referral.tasks import services as tasks
from referral.territories.models import Role, User
from referral.territories.queries import territory_by_slug

# What each role has to act on, by state (DESIGN §7).
CIP_TO_ACT_ON = (ReferralState.DRAFT, ReferralState.NEEDS_INFO, ReferralState.ACCEPTED)
CP_TO_ACT_ON = (ReferralState.SUBMITTED,)
CP_WAITING_ON_PARTNER = (ReferralState.SENT, ReferralState.WAITLISTED)
# The CP's « Orientations » page, in order.
CP_GROUPS = (
    ("À valider", CP_TO_ACT_ON),
    ("En attente du partenaire", CP_WAITING_ON_PARTNER),
    ("Acceptées et en cours", (ReferralState.ACCEPTED, ReferralState.STARTED)),
)


def referral_filter(actor: User) -> ColumnElement[bool]:
    """Referrals the actor may follow: a CIP their structure's, a CP those of their territory's
    opportunities in their domains, a coordinator their territory's, the national team all."""
    if actor.role is Role.CIP:
        return Referral.participant_id.in_(
            select(Participant.id).where(Participant.structure_id == actor.structure_id)
        )
    if actor.role is Role.ADMIN:
        return left_the_structure()
    in_territory = Referral.opportunity_id.in_(select(Opportunity.id).where(opportunity_filter(actor)))
    if actor.role is Role.CP:
        domains = actor.domain_codes
        if not domains:
            return false()
        in_domains = Referral.opportunity_id.in_(
            select(Opportunity.id).where(Opportunity.domain_code.in_(domains))
        )
        return in_territory & in_domains & left_the_structure()
    return in_territory & left_the_structure()


def left_the_structure() -> ColumnElement[bool]:
    """Referrals the CIP has submitted: a draft is the CIP's alone, and so is a draft cancelled
    before it was ever submitted (issue 14). Once submitted, a referral sent back for more
    information (`needs_info`) stays visible to those who saw it."""
    submitted = exists(
        select(ReferralTransition.id).where(
            ReferralTransition.referral_id == Referral.id, ReferralTransition.action == "submit"
        )
    )
    return (Referral.state != ReferralState.DRAFT) & ~(
        (Referral.state == ReferralState.CANCELLED) & ~submitted
    )


def list_referrals(
    session: Session, actor: User, *, states: Iterable[ReferralState] = (), territory_slug: str | None = None
) -> list[Referral]:
    query = _referrals_in_scope(session, actor, states=states, territory_slug=territory_slug).options(
        joinedload(Referral.opportunity).joinedload(Opportunity.partner),
        # What the lists' summaries show (sender and structure, need): read with the list, not per row.
        joinedload(Referral.participant).joinedload(Participant.structure),
        joinedload(Referral.need),
        joinedload(Referral.created_by),
    )
    return list(session.scalars(query))


def referrals_page(
    session: Session,
    actor: User,
    request: PageRequest,
    *,
    states: Iterable[ReferralState] = (),
    territory_slug: str | None = None,
) -> Page[Referral]:
    """One page of the referrals the actor follows, most recently moved first, with what the API
    shows of each: its opportunity and partner (joined) and its transitions (one statement for
    the whole page, not one per referral)."""
    query = _referrals_in_scope(session, actor, states=states, territory_slug=territory_slug).options(
        joinedload(Referral.opportunity).joinedload(Opportunity.partner),
        selectinload(Referral.transitions),
    )
    return page_of(session, query, request)


def _referrals_in_scope(
    session: Session, actor: User, *, states: Iterable[ReferralState], territory_slug: str | None
) -> Select[Referral]:
    query = select(Referral).where(referral_filter(actor))
    wanted = list(states)
    if wanted:
        query = query.where(Referral.state.in_(wanted))
    if territory_slug:
        territory = territory_by_slug(session, territory_slug)
        if territory is None:
            raise InvalidInput(
                "Territoire inconnu.", errors={"territory": [f"« {territory_slug} » est inconnu."]}
            )
        query = query.where(
            Referral.opportunity_id.in_(select(Opportunity.id).where(offered_in_territory(territory.id)))
        )
    return query.order_by(Referral.updated_at.desc(), Referral.id.desc())


def get_referral(session: Session, actor: User, referral_id: int) -> Referral:
    referral = session.scalar(select(Referral).where(Referral.id == referral_id, referral_filter(actor)))
    if referral is None:
        refused_attempt(session, referral_id)
        raise ReferralNotFound()
    return referral


def refused_attempt(session: Session, referral_id: int) -> None:
    """An attempt on a referral outside the actor's scope is logged (« accès refusé »); the
    answer stays the 404 of a missing one."""
    person_id = session.scalar(select(Referral.participant_id).where(Referral.id == referral_id))
    if person_id is not None:
        record_refusal(session, entity="referrals", entity_id=referral_id, participant_id=person_id)


# --- Accepting a proposal ------------------------------------------------------------------


def eligibility_blockers(
    session: Session, person: Participant, opportunity: Opportunity, today: date
) -> list[str]:
    """French reasons why `person` does not meet the opportunity's hard criteria (empty: eligible)."""
    return blocking_reasons(session, person, opportunity, today)


def create_referral(
    session: Session,
    actor: User,
    *,
    participant_id: int,
    opportunity_id: int,
    comment: str | None = None,
    need_id: int | None = None,
    today: date | None = None,
) -> Referral:
    """The CIP accepts a proposal: a draft referral, if the person is still eligible. It records the
    open need it answers (`need_id`, from the proposal; by default the need the opportunity answers
    best, as the ranking decides)."""
    if actor.role is not Role.CIP:
        raise TransitionNotAllowed(
            "Seul·e la ou le CIP de la personne accepte une proposition d'orientation."
        )
    today = today or clock.today()
    person = cases.get_participant(session, actor, participant_id)
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, opportunity_filter(actor))
    )
    if opportunity is None:
        raise OpportunityUnavailable("Cette opportunité n'est pas proposée sur votre territoire.")
    require_open(opportunity, today)
    if person.exit is not None and person.exit.exited_on <= today and not person.exit.continued_accompaniment:
        raise TransitionNotAllowed("La personne est sortie du programme sans accompagnement prolongé.")
    existing = session.scalar(
        select(Referral.id).where(
            Referral.participant_id == person.id,
            Referral.opportunity_id == opportunity.id,
            Referral.state.in_(ACTIVE_STATES),
        )
    )
    if existing is not None:
        raise TransitionNotAllowed(
            "Une orientation vers cette opportunité est déjà en cours pour cette personne."
        )
    reasons = eligibility_blockers(session, person, opportunity, today)
    if reasons:
        raise NotEligible(reasons)
    need = answered_need(person, opportunity, need_id)
    return open_draft(session, actor, person, opportunity, need=need, comment=comment)


def open_draft(
    session: Session,
    actor: User,
    person: Participant,
    opportunity: Opportunity,
    *,
    need: Need | None,
    comment: str | None,
    at: datetime | None = None,
) -> Referral:
    """The draft referral (« orientation en brouillon ») a CIP's accepted proposal opens, with its
    first move « accept », once the checks of `create_referral` are passed. `at` dates both (the
    demo activity builds referrals in the past); by default, now."""
    at = at or clock.now()
    referral = Referral(
        participant_id=person.id,
        opportunity_id=opportunity.id,
        need_id=need.id if need is not None else None,
        created_by_id=actor.id,
        state=ReferralState.DRAFT,
        comment=comment,
        created_at=at,
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralTransition(
            referral_id=referral.id,
            action="accept",
            from_state=None,
            to_state=ReferralState.DRAFT,
            actor_id=actor.id,
            actor_role=actor.role,
            comment=comment,
            at=at,
        )
    )
    session.flush()
    return referral


# --- Moving through the lifecycle ----------------------------------------------------------


def answered_need(person: Participant, opportunity: Opportunity, need_id: int | None) -> Need | None:
    """The person's open need a referral to `opportunity` answers: `need_id` when given (it must be
    an open need of theirs that the opportunity answers), else the one the ranking names
    (`scoring.relevance`: the most urgent need answered, an exact answer first)."""
    open_needs = sorted(
        (need for need in person.needs if need.status is NeedStatus.OPEN),
        key=lambda need: (need.priority, need.id),
    )
    subtypes = tuple(subtype.code for subtype in opportunity.subtypes)
    ranked = []
    for position, need in enumerate(open_needs):
        kind = answer_kind(
            OpenNeed(need.domain_code, need.subtype_code, need.priority), opportunity.domain_code, subtypes
        )
        if kind is not None:
            ranked.append((relevance_rank(need.priority, position, kind), need))
    if need_id is not None:
        chosen = next((need for _, need in ranked if need.id == need_id), None)
        if chosen is None:
            raise InvalidInput(
                "Ce frein n'est pas un frein ouvert de la personne auquel cette opportunité répond.",
                errors={"need_id": ["Frein inconnu ou sans rapport avec l'opportunité."]},
            )
        return chosen
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def check_move_input(session: Session, step: Transition, *, reason: str | None, outcome: str | None) -> None:
    """What a move's form must carry (a reason from the move's own list, an outcome), checked
    before the confirmation page of a destructive move too: nobody is asked to confirm a refusal
    that would then be refused for want of a reason."""
    _check_reason(session, step, reason, outcome)


def _check_reason(session: Session, transition: Transition, reason: str | None, outcome: str | None) -> None:
    if transition.reason_list:
        if not reason:
            raise BadTransitionInput("Un motif est obligatoire.", errors={"reason": ["Champ obligatoire."]})
        if reason not in reference.code_set(session, transition.reason_list):
            raise BadTransitionInput("Motif inconnu.", errors={"reason": [f"Code inconnu : « {reason} »."]})
    elif reason:
        raise BadTransitionInput(
            "Cette action ne prend pas de motif.", errors={"reason": ["Champ inattendu."]}
        )
    if transition.needs_outcome:
        if not outcome:
            raise BadTransitionInput(
                "L'issue de l'orientation est obligatoire.", errors={"outcome": ["Champ obligatoire."]}
            )
        if outcome not in reference.code_set(session, "referral_outcome"):
            raise BadTransitionInput(
                "Issue inconnue.", errors={"outcome": [f"Code inconnu : « {outcome} »."]}
            )


def _take_place(session: Session, opportunity: Opportunity) -> None:
    """One place, atomically: two CPs accepting the last place at once cannot both succeed."""
    result = session.execute(
        update(Opportunity)
        .where(Opportunity.id == opportunity.id, Opportunity.places_taken < Opportunity.capacity)
        .values(places_taken=Opportunity.places_taken + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(opportunity, ["places_taken"])
    if rowcount(result) != 1:
        raise CapacityExhausted()
    on_commit(session, forget_index)  # places left are part of the ranking


def _give_place_back(session: Session, opportunity: Opportunity) -> None:
    session.execute(
        update(Opportunity)
        .where(Opportunity.id == opportunity.id, Opportunity.places_taken > 0)
        .values(places_taken=Opportunity.places_taken - 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(opportunity, ["places_taken"])
    on_commit(session, forget_index)


def transition(
    session: Session,
    actor: User | None,
    referral_id: int,
    *,
    action: str,
    version: int,
    reason: str | None = None,
    comment: str | None = None,
    outcome: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Move a referral. `actor=None` is the system (the scheduler's expiry)."""
    now = now or utcnow()
    move = TRANSITIONS.get(action)
    if move is None:
        raise BadTransitionInput(
            f"Action inconnue : « {action} ».",
            errors={"action": [f"Valeurs possibles : {', '.join(sorted(TRANSITIONS))}."]},
        )
    if actor is None:
        referral = session.get(Referral, referral_id)
        if referral is None:
            raise ReferralNotFound()
    else:
        referral = get_referral(session, actor, referral_id)
    if referral.version != version:
        raise StaleVersion()
    state = referral.state
    if move.system != (actor is None) or (actor is not None and actor.role not in move.roles):
        raise TransitionNotAllowed(f"Votre rôle ne permet pas l'action « {move.label} ».")
    if state not in move.sources:
        raise TransitionNotAllowed(
            f"Impossible : « {move.label} » ne s'applique pas à une orientation à l'état « {state.label} »."
        )
    _check_reason(session, move, reason, outcome)

    opportunity = referral.opportunity
    for guard in move.guards:
        guard(session, referral, clock.paris_day(now))
    target = move.target_for(opportunity)
    if move.shares_dossier:
        referral.shared_dossier = build_dossier(session, referral, clock.paris_day(now))
    if target in HOLDS_PLACE and state not in HOLDS_PLACE:
        _take_place(session, opportunity)
    if state in HOLDS_PLACE and target not in HOLDS_PLACE and target is not ReferralState.CLOSED:
        _give_place_back(session, opportunity)  # an abandon before the start frees the place

    referral.state = target
    referral.waiting_since = now if target in WAITING_STATES else None
    if outcome:
        referral.outcome = outcome
    session.add(
        ReferralTransition(
            referral_id=referral.id,
            action=action,
            from_state=state,
            to_state=target,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else None,
            at=now,
            reason=reason,
            comment=comment,
        )
    )
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None
    if state in WAITING_STATES and target not in WAITING_STATES:
        tasks.close_tasks(session, f"referral_waiting:{referral.id}")
    _tell_the_cip(session, referral, action)
    if move.tells_cps:
        _tell_the_cps(session, referral, direct=target is ReferralState.SENT)
    return referral


def _tell_the_cps(session: Session, referral: Referral, *, direct: bool) -> None:
    """The CPs of the opportunity's domain hear of every referral: to validate it, or — when the
    opportunity needs no validation — because it went straight to the partner (DESIGN §4)."""
    opportunity = referral.opportunity
    territories = opportunity.offered_territory_ids
    # Why and from whom, never who: a stored notification outlives the consent (DESIGN §8).
    need = need_text(referral, need_labels(session))
    about = f" Frein : {need}." if need else ""
    about += f" Envoyée par {sender_text(referral)}."
    message = (
        f"Orientation transmise directement au partenaire : « {opportunity.title} ».{about}"
        if direct
        else f"Orientation à valider : « {opportunity.title} ».{about}"
    )
    for user_id in tasks.cps_for(session, territories, opportunity.domain_code):
        tasks.notify(
            session,
            user_id=user_id,
            kind="referral_submitted",
            message=message,
            link=f"/orientations/{referral.id}",
            key=f"referral:{referral.id}:submit:{referral.version}",
        )


# What the CIP is told, by the move that concerns them (DESIGN §7, issue « nothing forgotten »).
CIP_NEWS = {
    "request_info": "Complément demandé",
    "validate": "Validée par le CP et transmise",
    "decline": "Refusée par le CP",
    "partner_accept": "Acceptée par le partenaire",
    "partner_waitlist": "Mise en liste d'attente par le partenaire",
    "partner_refuse": "Refusée par le partenaire",
    "expire": "Expirée sans réponse",
}


def _tell_the_cip(session: Session, referral: Referral, action: str) -> None:
    news = CIP_NEWS.get(action)
    if news is None:
        return
    recipients = {referral.created_by_id} if referral.created_by_id else set()
    if referral.participant.referent_id:
        recipients.add(referral.participant.referent_id)
    for user_id in sorted(recipients):
        tasks.notify(
            session,
            user_id=user_id,
            kind=f"referral_{action}",
            message=f"{news} : orientation vers « {referral.opportunity.title} ».",
            link=f"/orientations/{referral.id}",
            key=f"referral:{referral.id}:{action}:{referral.version}",
        )


def expire_overdue(session: Session, now: datetime | None = None) -> list[int]:
    """Expire referrals nobody answered within their opportunity's delay (the scheduler's job).

    Idempotent: a second run finds nothing left to expire.
    """
    now = now or utcnow()
    waiting = session.scalars(
        select(Referral)
        .join(Referral.opportunity)
        .where(Referral.state.in_(TRANSITIONS["expire"].sources), Referral.waiting_since.is_not(None))
        .order_by(Referral.id)
    ).all()
    expired = []
    for referral in waiting:
        assert referral.waiting_since is not None  # the query keeps only referrals with one
        deadline = referral.waiting_since + timedelta(days=referral.opportunity.answer_delay_days)
        if deadline <= now:
            transition(
                session,
                None,
                referral.id,
                action="expire",
                version=referral.version,
                now=now,
                comment=f"Sans réponse après {referral.opportunity.answer_delay_days} jours.",
            )
            expired.append(referral.id)
    return expired


def may_see_dossier(actor: User, referral: Referral) -> bool:
    """The shared dossier names the person: the CIP of the structure and the CPs following the
    referral see it (it is what the consent covers); coordinators and the national team never."""
    return actor.role in (Role.CIP, Role.CP)


def grouped_referrals(session: Session, actor: User) -> list[tuple[str, list[Referral]]]:
    """The « Orientations » page's groups: a CP's by what they wait on (`CP_GROUPS`), anyone
    else's by state, in the lifecycle's order; empty groups of states are left out."""
    referrals = list_referrals(session, actor)
    if actor.role is Role.CP:
        return [(title, [r for r in referrals if r.state in states]) for title, states in CP_GROUPS]
    groups = [(state.label, [r for r in referrals if r.state is state]) for state in ReferralState]
    return [(title, members) for title, members in groups if members]


def reason_labels(session: Session) -> Callable[[ReferralTransition], str | None]:
    """The French label of a move's reason, read in the list of its own transition (the lists
    share codes with different labels: « pas_de_place » is not said the same by the CP and the
    partner). The history shows it; None for a move without reason."""
    lists: dict[str, dict[str, str]] = {}

    def label(move: ReferralTransition) -> str | None:
        if not move.reason:
            return None
        transition = TRANSITIONS.get(move.action)
        if transition is None or transition.reason_list is None:
            return move.reason
        if transition.reason_list not in lists:
            lists[transition.reason_list] = reference.labels(session, transition.reason_list)
        return lists[transition.reason_list].get(move.reason, move.reason)

    return label


def may_edit_record(actor: User) -> bool:
    """Only a CIP opens and changes the case record a referral comes from."""
    return actor.role is Role.CIP


def display_name(actor: User, referral: Referral, shared: SharedToday | None = None) -> str:
    """How a referral names its person for `actor`: the CIP by name, a CP through the identity
    the person agreed to share and still agrees to (`shared`, from `shared_dossiers`: without
    it, no name), coordinators and the national team never."""
    if actor.role is Role.CIP:
        return f"{referral.participant.first_name} {referral.participant.last_name}"
    identity = shared.identity if shared is not None and actor.role is Role.CP else None
    if identity:
        return f"{identity['first_name']} {identity['last_name']}"
    return f"Personne n° {referral.participant_id}"


def shared_dossiers(
    session: Session,
    actor: User,
    referrals: Iterable[Referral],
    *,
    what: str = "dossier partagé",
    on: date | None = None,
) -> dict[int, SharedToday]:
    """The dossiers `actor` may see among `referrals`, each as the person's consent allows
    today (a withdrawn category is left out and said so), every one shown logged as a read."""
    visible = [referral for referral in referrals if may_see_dossier(actor, referral)]
    shown = dossiers_on(session, visible, on or clock.today())
    record_reads(
        session,
        [
            ReadEntry("referrals", referral.id, referral.participant_id, what)
            for referral in visible
            if actor.role is Role.CIP or any(key in SECTION_CATEGORIES for key in shown[referral.id].dossier)
        ],
    )
    return shown


def shared_dossier(
    session: Session, actor: User, referral: Referral, *, what: str = "dossier partagé"
) -> SharedToday | None:
    """One referral's dossier for `actor` (None when their role never sees it), read logged."""
    return shared_dossiers(session, actor, [referral], what=what).get(referral.id)
