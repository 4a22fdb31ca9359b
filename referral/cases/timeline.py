"""The timeline of a record: every event in date order (DESIGN §4).

The record's own events (entry, contracts, needs, consents, referents, notes, renewals, exit,
follow-ups) are read here. The referrals and their moves are known one layer up: the `referrals`
package registers a source for them (`register_timeline_source`, called by
`referral.referrals.record_sources.install()`; see `referral.cases.providers` for who installs it
and why), so this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from referral import clock
from referral.cases.entry_situation import corrections_of
from referral.cases.models import Participant
from referral.cases.providers import Providers
from referral.cases.services import get_participant
from referral.reference import queries as reference
from referral.territories.models import User


@dataclass(frozen=True)
class TimelineEvent:
    on: date
    kind: str
    title: str
    detail: str = ""


# Events of a record another room knows (the referrals' moves), read for one person.
TimelineSource = Callable[[Session, Participant], Iterable[TimelineEvent]]
TIMELINE_SOURCES: Providers[TimelineSource] = Providers("The record's timeline", ["referrals"])


def register_timeline_source(name: str, source: TimelineSource) -> None:
    TIMELINE_SOURCES.register(name, source)


def timeline(session: Session, actor: User, participant_id: int) -> list[TimelineEvent]:
    """Every event of the record in date order (DESIGN §4): entry, contracts, needs, consents,
    notes, referents, referrals and their moves, renewals, corrections of the situation at
    entry, exit and follow-ups."""
    person = get_participant(session, actor, participant_id)
    labels = reference.labels(session, "exit_type")
    domains = {domain.code: domain.label for domain in reference.domains(session)}
    events = [
        TimelineEvent(person.entered_on, "entry", f"Entrée dans le parcours ({person.programme.label})")
    ]
    for contract in person.contracts:
        employer = f" chez {contract.employer_name}" if contract.employer_name else ""
        events.append(
            TimelineEvent(
                contract.starts_on,
                "contract",
                f"{contract.kind.label}{employer} : {contract.weekly_hours:g} h par semaine",
            )
        )
        if contract.ends_on is not None:
            events.append(
                TimelineEvent(contract.ends_on, "contract_end", f"Fin du contrat {contract.kind.label}")
            )
    for need in person.needs:
        label = domains.get(need.domain_code, need.domain_code)
        events.append(
            TimelineEvent(
                need.opened_on,
                "need",
                f"Frein identifié : {label}",
                f"Priorité {need.priority}" + (" — diagnostic d'entrée" if need.at_entry else ""),
            )
        )
        if need.resolved_on is not None:
            events.append(TimelineEvent(need.resolved_on, "need_resolved", f"Frein levé : {label}"))
    for consent in person.consents:
        events.append(
            TimelineEvent(
                consent.given_on,
                "consent",
                f"Consentement : {consent.data_category.label} → {consent.recipient.label}",
            )
        )
        if consent.revoked_on is not None:
            events.append(
                TimelineEvent(
                    consent.revoked_on,
                    "consent_revoked",
                    f"Consentement retiré : {consent.data_category.label} → {consent.recipient.label}",
                )
            )
    for referent in person.external_referents:
        if referent.started_on is not None:
            events.append(
                TimelineEvent(referent.started_on, "referent", f"Référent·e extérieur·e : {referent.name}")
            )
    for note in person.notes:
        events.append(TimelineEvent(clock.paris_day(note.written_at), "note", "Note de suivi", note.body))
    for renewal in person.renewals:
        events.append(
            TimelineEvent(
                renewal.requested_on, "renewal_requested", "Demande de renouvellement", renewal.motivation
            )
        )
        if renewal.decided_on is not None:
            outcome = renewal.outcome.label + (
                f" jusqu'au {renewal.valid_until:%d/%m/%Y}" if renewal.valid_until else ""
            )
            events.append(TimelineEvent(renewal.decided_on, "renewal_decided", outcome))
    for correction in corrections_of(session, person.id):
        events.append(
            TimelineEvent(
                clock.paris_day(correction.at),
                "entry_corrected",
                "Situation à l'entrée corrigée : " + ", ".join(correction.fields),
                correction.reason,
            )
        )
    for _name, source in TIMELINE_SOURCES.all():
        events.extend(source(session, person))
    if person.exit is not None:
        events.append(
            TimelineEvent(
                person.exit.exited_on,
                "exit",
                f"Sortie : {labels.get(person.exit.exit_type, person.exit.exit_type)}",
                person.exit.detail or "",
            )
        )
    for follow_up in person.follow_ups:
        if follow_up.done_on is not None:
            events.append(TimelineEvent(follow_up.done_on, "follow_up", f"{follow_up.kind.label} réalisé"))
        else:
            events.append(TimelineEvent(follow_up.due_on, "follow_up_due", f"{follow_up.kind.label} prévu"))
    order = {
        kind: index
        for index, kind in enumerate(
            [
                "entry",
                "contract_end",
                "contract",
                "need",
                "consent",
                "referent",
                "note",
                "referral",
                "need_resolved",
                "consent_revoked",
                "renewal_requested",
                "renewal_decided",
                "entry_corrected",
                "exit",
                "follow_up",
                "follow_up_due",
            ]
        )
    }
    return sorted(events, key=lambda event: (event.on, order.get(event.kind, 99)))
