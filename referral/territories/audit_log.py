"""The DPO's view of the audit log (DESIGN §8, issue 14): for a person's record or a user's
account, who read or changed what and when, over a period, on screen and as CSV.

Only the national team reads the log, and reading it is itself logged (a read of
``audit_entries``, about the person asked for when there is one): the log says who looked at
whom in the log too. Lives beside the accounts because it is a rule about a role; the log itself
and its reads are `referral.audit`'s.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from referral import clock
from referral.audit import queries
from referral.audit.models import AuditEntry
from referral.audit.services import record_read
from referral.exceptions import InvalidInput, PermissionDenied
from referral.territories.models import Role, User

PARIS = clock.PARIS  # the one clock names the zone
PER_PAGE = 100
# A CSV is one download: past this many lines, narrow the period.
CSV_MAX_ROWS = 50_000


@dataclass(frozen=True)
class AuditFilter:
    participant_id: int | None = None
    user_id: int | None = None
    user_email: str | None = None
    since: date | None = None  # included, Paris days
    until: date | None = None  # included


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int
    user: User | None  # the account asked for, when one was

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def may_read_audit_log(actor: User) -> bool:
    """The national team alone (the DPO works in it)."""
    return actor.role is Role.ADMIN


def require_reader(actor: User) -> None:
    if not may_read_audit_log(actor):
        raise PermissionDenied("Le journal des accès n'est consultable que par l'équipe nationale (DPO).")


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


@dataclass(frozen=True)
class _Criteria:
    participant_id: int | None
    actor_id: int | None
    since: datetime | None
    until: datetime | None

    def query(self) -> Select[AuditEntry]:
        return queries.entries_query(
            participant_id=self.participant_id, actor_id=self.actor_id, since=self.since, until=self.until
        )

    def count(self, session: Session) -> int:
        return queries.count_entries(
            session,
            participant_id=self.participant_id,
            actor_id=self.actor_id,
            since=self.since,
            until=self.until,
        )


def _resolve(session: Session, actor: User, wanted: AuditFilter) -> tuple[User | None, _Criteria]:
    require_reader(actor)
    errors: dict[str, list[str]] = {}
    user = None
    if wanted.user_id is not None:
        user = session.get(User, wanted.user_id)
        if user is None:
            errors["user_id"] = ["Aucun compte n'a cet identifiant."]
    elif wanted.user_email:
        user = session.scalar(select(User).where(User.email == wanted.user_email.strip().lower()))
        if user is None:
            errors["user_email"] = ["Aucun compte n'a cette adresse."]
    if wanted.participant_id is None and wanted.user_id is None and not wanted.user_email:
        errors["participant_id"] = ["Indiquez une personne (n° de dossier) ou un compte."]
    if wanted.since and wanted.until and wanted.since > wanted.until:
        errors["until"] = ["La fin de la période précède son début."]
    if errors:
        raise InvalidInput("La recherche dans le journal des accès est incomplète.", errors=errors)
    criteria = _Criteria(
        participant_id=wanted.participant_id,
        actor_id=user.id if user else None,
        since=_paris_midnight(wanted.since) if wanted.since else None,
        until=_paris_midnight(wanted.until + timedelta(days=1)) if wanted.until else None,
    )
    return user, criteria


def _log_reading(session: Session, wanted: AuditFilter, user: User | None, what: str) -> None:
    about = []
    if wanted.participant_id is not None:
        about.append(f"personne n° {wanted.participant_id}")
    if user is not None:
        about.append(f"compte {user.email}")
    period = f" du {wanted.since or '…'} au {wanted.until or '…'}" if wanted.since or wanted.until else ""
    record_read(
        session,
        entity="audit_entries",
        entity_id=None,
        participant_id=wanted.participant_id,
        what=f"{what} : {', '.join(about)}{period}",
    )


def read_audit_log(session: Session, actor: User, wanted: AuditFilter, *, page: int = 1) -> AuditPage:
    """One page of entries, newest first; the reading is logged."""
    user, criteria = _resolve(session, actor, wanted)
    page = max(1, page)
    total = criteria.count(session)
    entries = list(session.scalars(criteria.query().limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    _log_reading(session, wanted, user, "journal des accès")
    return AuditPage(entries, total, page, PER_PAGE, user)


CSV_COLUMNS = (
    "date_heure",
    "compte",
    "role",
    "action",
    "objet",
    "objet_id",
    "personne_id",
    "detail",
    "adresse",
)


def describe(entry: AuditEntry) -> str:
    """What an entry says beyond its columns, in French: field names, never their values, and
    the reason of a correction of the situation at entry."""
    details = entry.details or {}
    parts = []
    if details.get("what"):
        parts.append(str(details["what"]))
    if details.get("fields"):
        parts.append("champs : " + ", ".join(str(name) for name in details["fields"]))
    if details.get("reason"):
        parts.append(f"motif : {details['reason']}")
    return " ; ".join(parts)


def csv_rows(entries: Iterable[AuditEntry]) -> Iterable[list[str]]:
    for entry in entries:
        yield [
            entry.at.astimezone(PARIS).isoformat(timespec="seconds"),
            entry.actor_email or "",
            entry.actor_role or "",
            entry.action.label,
            entry.entity,
            "" if entry.entity_id is None else str(entry.entity_id),
            "" if entry.participant_id is None else str(entry.participant_id),
            describe(entry),
            entry.remote_addr or "",
        ]


def audit_log_csv(session: Session, actor: User, wanted: AuditFilter) -> str:
    """Every matching entry (up to `CSV_MAX_ROWS`) as CSV with a header; the download is logged."""
    user, criteria = _resolve(session, actor, wanted)
    total = criteria.count(session)
    if total > CSV_MAX_ROWS:
        raise InvalidInput(
            f"{total} entrées : au plus {CSV_MAX_ROWS} par téléchargement. Réduisez la période.",
            errors={"since": ["Période trop longue pour un seul fichier."]},
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(session.scalars(criteria.query())))
    _log_reading(session, wanted, user, "journal des accès (CSV)")
    return buffer.getvalue()
