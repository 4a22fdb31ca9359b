"""The path after entry: renewals asked for and decided by the commission, the exit, and the
follow-ups 6 and 12 months after it. Each closes the tasks its doing makes pointless."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from referral import clock
from referral.cases import rules
from referral.cases.models import Exit, FollowUp, FollowUpKind, RenewalDecision, RenewalOutcome
from referral.cases.services import load_to_change, part_of_record, path_of, require_cip
from referral.exceptions import Conflict, InvalidInput
from referral.reference import queries as reference
from referral.tasks import services as tasks
from referral.tasks.models import TaskStatus
from referral.territories.models import Programme, User


def request_renewal(
    session: Session, actor: User, participant_id: int, values: Mapping[str, Any]
) -> RenewalDecision:
    """Ask the commission to extend a Convergence path by a year (from the third year)."""
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=True)
    path = path_of(person)
    if person.programme is not Programme.CVG:
        raise Conflict("Seuls les parcours Convergence se prolongent au-delà de 24 mois par la commission.")
    if path.next_decision_due is None:
        raise Conflict(f"Le parcours atteint déjà sa limite de cinq ans ({path.hard_limit:%d/%m/%Y}).")
    if any(r.outcome is RenewalOutcome.PENDING for r in person.renewals):
        raise Conflict("Une demande de renouvellement attend déjà la décision de la commission.")
    requested_on = values.get("requested_on") or clock.today()
    if requested_on < rules.add_months(path.authorised_end, -6):
        raise InvalidInput(
            "Trop tôt : la demande se fait dans les six mois avant la fin de parcours autorisée "
            f"({path.authorised_end:%d/%m/%Y}).",
            errors={"requested_on": ["Trop tôt."]},
        )
    if not values.get("motivation", "").strip():
        raise InvalidInput("La demande doit être motivée.", errors={"motivation": ["Champ obligatoire."]})
    tasks.close_tasks(session, f"renewal:{person.id}:", prefix=True)
    renewal = RenewalDecision(
        participant_id=person.id,
        requested_on=requested_on,
        requested_by_id=actor.id,
        motivation=values["motivation"],
        accompaniment_evaluation=values.get("accompaniment_evaluation"),
        mobilisation_evaluation=values.get("mobilisation_evaluation"),
    )
    session.add(renewal)
    session.flush()
    return renewal


def decide_renewal(
    session: Session, actor: User, participant_id: int, renewal_id: int, values: Mapping[str, Any]
) -> RenewalDecision:
    """Record the commission's decision; a renewal granted extends the path by one year."""
    person, renewal = part_of_record(
        session,
        actor,
        participant_id,
        RenewalDecision,
        renewal_id,
        "Cette demande de renouvellement n'existe pas dans ce dossier.",
        for_update=True,
    )
    if renewal.outcome is not RenewalOutcome.PENDING:
        raise Conflict("La commission a déjà statué sur cette demande.")
    decided_on = values.get("decided_on") or clock.today()
    if decided_on < renewal.requested_on:
        raise InvalidInput(
            "La décision ne précède pas la demande.", errors={"decided_on": ["Date trop tôt."]}
        )
    granted = bool(values["granted"])
    renewal.valid_until = rules.next_renewal_end(path_of(person)) if granted else None
    renewal.outcome = RenewalOutcome.GRANTED if granted else RenewalOutcome.REFUSED
    renewal.decided_on = decided_on
    renewal.decided_by = values.get("decided_by") or "Commission de renouvellement"
    session.flush()
    return renewal


def record_exit(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Exit:
    """Close the path and create the follow-ups due 6 and 12 months later."""
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=True)
    if person.exit is not None:
        raise Conflict(f"La sortie est déjà enregistrée (le {person.exit.exited_on:%d/%m/%Y}).")
    errors: dict[str, list[str]] = {}
    exited_on = values["exited_on"]
    if exited_on < person.entered_on:
        errors["exited_on"] = ["La sortie ne précède pas l'entrée."]
    if exited_on > clock.today() + timedelta(days=31):
        errors["exited_on"] = ["Une sortie s'enregistre au plus un mois à l'avance."]
    if values["exit_type"] not in reference.code_set(session, "exit_type"):
        errors["exit_type"] = [f"Type de sortie inconnu : « {values['exit_type']} »."]
    for field in ("housing_status", "health_coverage"):
        code = values.get(field)
        if code is not None and code not in reference.code_set(session, field):
            errors[field] = [f"Code inconnu : « {code} »."]
    if errors:
        raise InvalidInput("La sortie ne peut pas être enregistrée.", errors=errors)
    for about in (f"renewal:{person.id}:", f"path_limit:{person.id}"):
        tasks.close_tasks(session, about, status=TaskStatus.CANCELLED, prefix=True)
    exit_row = Exit(
        participant_id=person.id,
        exited_on=exited_on,
        exit_type=values["exit_type"],
        detail=values.get("detail"),
        housing_status=values.get("housing_status"),
        health_coverage=values.get("health_coverage"),
        has_treating_doctor=values.get("has_treating_doctor"),
        rights_opened=list(values.get("rights_opened", [])),
        continued_accompaniment=bool(values.get("continued_accompaniment", False)),
        recorded_by_id=actor.id,
    )
    person.exit = exit_row
    session.flush()
    for contract in person.contracts:
        if contract.kind.value in rules.INSERTION_KINDS and (
            contract.ends_on is None or contract.ends_on > exited_on
        ):
            contract.ends_on = max(exited_on, contract.starts_on)
    for kind, months in zip(
        (FollowUpKind.SIX_MONTHS, FollowUpKind.TWELVE_MONTHS), rules.FOLLOW_UP_MONTHS, strict=True
    ):
        session.add(
            FollowUp(
                participant_id=person.id,
                exit_id=exit_row.id,
                kind=kind,
                due_on=rules.add_months(exited_on, months),
            )
        )
    session.flush()
    return exit_row


def record_follow_up(
    session: Session, actor: User, participant_id: int, follow_up_id: int, values: Mapping[str, Any]
) -> FollowUp:
    person, follow_up = part_of_record(
        session, actor, participant_id, FollowUp, follow_up_id, "Ce suivi n'existe pas dans ce dossier."
    )
    if follow_up.done_on is not None:
        raise Conflict("Ce suivi est déjà enregistré.")
    if values["outcome"] not in reference.code_set(session, "followup_outcome"):
        raise InvalidInput(
            "Résultat inconnu.", errors={"outcome": [f"Code inconnu : « {values['outcome']} »."]}
        )
    done_on = values.get("done_on") or clock.today()
    if done_on < follow_up.exit.exited_on:
        raise InvalidInput("Un suivi post-sortie suit la sortie.", errors={"done_on": ["Date trop tôt."]})
    if done_on > clock.today():
        raise InvalidInput("Date future.", errors={"done_on": ["Date future."]})
    follow_up.done_on = done_on
    follow_up.outcome = values["outcome"]
    follow_up.comment = values.get("comment")
    follow_up.recorded_by_id = actor.id
    session.flush()
    tasks.close_tasks(session, f"follow_up:{follow_up.id}")
    return follow_up
