"""« Mes salarié·es » as pages: the lists of a structure's people, read as plain rows.

A list shows a few columns of many people; reading each record with its needs, exit, renewals and
follow-ups as objects cost more than half of the time of `GET /participants` (issue 20). Here
each list reads the columns it shows in a fixed number of statements, whatever its length:

- `participants_page`: the API's list, one page of the record's own columns;
- `case_lines`: the page's list, with the end of the path, the open needs and what needs
  attention, its name search and filters; the path and attention are worked out for the page's
  people only, unless a filter needs them for everyone;
- `participant_names`: names for a choice (booking an office hour).

Each list of names is an audited read (DESIGN §8), like opening a record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from referral import clock
from referral.access import participant_filter
from referral.audit.services import record_read
from referral.cases import rules
from referral.cases.models import (
    Consent,
    Exit,
    FollowUp,
    FollowUpKind,
    Need,
    NeedStatus,
    Participant,
    RenewalDecision,
    RenewalOutcome,
)
from referral.cases.providers import Providers
from referral.cases.services import Attention, attention_of, name_scores, require_cip
from referral.paging import Page, PageRequest, page_of, page_of_list
from referral.territories.models import Programme, User

# What higher rooms add to « À surveiller » (a referral waiting too long): the people's ids and
# today in, their attention points out. `referrals.record_sources.install()` registers it.
AttentionSource = Callable[[Session, Any, date], dict[int, list[Attention]]]
ATTENTION_SOURCES: Providers[AttentionSource] = Providers("« À surveiller »", ["referrals"])


def register_attention_source(name: str, source: AttentionSource) -> None:
    ATTENTION_SOURCES.register(name, source)


# The columns of the API's participant (DESIGN §9), nothing else of the record.
API_COLUMNS = (
    Participant.id,
    Participant.first_name,
    Participant.last_name,
    Participant.birth_date,
    Participant.structure_id,
    Participant.programme,
    Participant.entered_on,
    Participant.housing_status,
    Participant.health_coverage,
    Participant.housing_status_at_entry,
    Participant.health_coverage_at_entry,
    Participant.residence_status,
    Participant.residence_permit_expires_on,
    Participant.language_level,
    Participant.driving_licence,
    Participant.household_size,
    Participant.children,
    Participant.monthly_resources,
)
# A row of any columns (what `session.execute(select(a, b…))` yields).
AnyRow = Row[*tuple[Any, ...]]
BY_NAME = (Participant.last_name, Participant.first_name, Participant.id)


def _in_scope(actor: User) -> ColumnElement[bool]:
    return participant_filter(actor) & Participant.anonymised_at.is_(None)


def participants_page(session: Session, actor: User, request: PageRequest) -> Page[AnyRow]:
    """One page of the people the actor's structure accompanies, by name (audited)."""
    require_cip(actor)
    page = page_of(
        session, select(*API_COLUMNS).where(_in_scope(actor)).order_by(*BY_NAME), request, scalars=False
    )
    record_read(
        session,
        entity="participants",
        entity_id=None,
        participant_id=None,
        what=f"liste (page {page.number}, {len(page.items)} sur {page.total})",
    )
    return page


def participant_names(session: Session, actor: User) -> list[AnyRow]:
    """Every person the actor's structure accompanies as (id, first_name, last_name), by name:
    the choices of a form (audited)."""
    require_cip(actor)
    rows = list(
        session.execute(
            select(Participant.id, Participant.first_name, Participant.last_name)
            .where(_in_scope(actor))
            .order_by(*BY_NAME)
        )
    )
    record_read(
        session, entity="participants", entity_id=None, participant_id=None, what=f"noms ({len(rows)})"
    )
    return rows


@dataclass(frozen=True)
class CaseLine:
    """One line of « Mes salarié·es »."""

    id: int
    first_name: str
    last_name: str
    programme: Programme
    entered_on: date
    exited_on: date | None
    permit_expires_on: date | None
    open_needs: int = 0
    authorised_end: date | None = None
    attention: list[Attention] = field(default_factory=list)
    score: float | None = None  # name match, when searching


def case_lines(
    session: Session,
    actor: User,
    request: PageRequest,
    *,
    query: str | None = None,
    programme: str | None = None,
    need_domain: str | None = None,
    path_ends_within_months: int | None = None,
    follow_ups_due: bool = False,
    today: date | None = None,
) -> Page[CaseLine]:
    """The CIP's list, one page of it, with a typo-tolerant name search and the page's filters.

    By name, or by closeness of the name when searching. Six statements at most, whatever the
    number of people: the people (programme and open-need filters in the database), then the
    renewals, follow-ups and open needs of those whose line is computed.
    """
    require_cip(actor)
    today = today or clock.today()
    people = (
        select(
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            Participant.programme,
            Participant.entered_on,
            Exit.exited_on,
            Participant.residence_permit_expires_on,
        )
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(_in_scope(actor))
        .order_by(*BY_NAME)
    )
    if programme:
        # An unknown code (an edited address) matches nobody rather than failing.
        people = people.where(Participant.programme.in_([p for p in Programme if p.value == programme]))
    if need_domain:
        people = people.where(
            select(Need.id)
            .where(
                Need.participant_id == Participant.id,
                Need.domain_code == need_domain,
                Need.status != NeedStatus.RESOLVED,
            )
            .exists()
        )
    lines = [CaseLine(*row) for row in session.execute(people)]
    if query and query.strip():
        scores = name_scores(query, {line.id: f"{line.first_name} {line.last_name}" for line in lines})
        lines = sorted(
            (replace(line, score=scores[line.id]) for line in lines if line.id in scores),
            key=lambda line: (-(line.score or 0), line.last_name, line.id),
        )
    needs_everyone = path_ends_within_months is not None or follow_ups_due
    if needs_everyone:
        lines = _completed(session, lines, today, everyone=_in_scope(actor))
        if path_ends_within_months is not None:
            horizon = rules.add_months(today, path_ends_within_months)
            lines = [
                line
                for line in lines
                if line.exited_on is None
                and line.authorised_end is not None
                and line.authorised_end <= horizon
            ]
        if follow_ups_due:
            lines = [line for line in lines if any(point.code == "follow_up_due" for point in line.attention)]
    page = page_of_list(lines, request)
    if not needs_everyone:
        page = Page(_completed(session, page.items, today), page.total, page.request)
    record_read(
        session,
        entity="participants",
        entity_id=None,
        participant_id=None,
        what=f"liste (page {page.number}, {len(page.items)} sur {page.total})",
    )
    return page


def _completed(
    session: Session, lines: list[CaseLine], today: date, *, everyone: ColumnElement[bool] | None = None
) -> list[CaseLine]:
    """`lines` with their path, open needs and attention points, read in three statements: for
    the people of `lines`, or for `everyone` in scope when the lines are all of them."""
    if not lines:
        return lines
    ids: Any = [line.id for line in lines] if everyone is None else select(Participant.id).where(everyone)
    renewals = _by_person(
        session,
        select(RenewalDecision.participant_id, RenewalDecision.outcome, RenewalDecision.valid_until),
        RenewalDecision.participant_id,
        ids,
    )
    follow_ups = _by_person(
        session,
        select(FollowUp.participant_id, FollowUp.kind, FollowUp.due_on, FollowUp.done_on).order_by(
            FollowUp.due_on, FollowUp.id
        ),
        FollowUp.participant_id,
        ids,
    )
    consents_ending: dict[int, date] = {
        person_id: ends
        for person_id, ends in session.execute(
            select(Consent.participant_id, func.min(Consent.expires_on))
            .where(
                Consent.participant_id.in_(ids),
                Consent.revoked_on.is_(None),
                Consent.expires_on.is_not(None),
                Consent.expires_on >= today,
            )
            .group_by(Consent.participant_id)
        ).all()
        if ends is not None
    }
    from_above: dict[int, list[Attention]] = defaultdict(list)
    for _name, source in ATTENTION_SOURCES.all():
        for person_id, points in source(session, ids, today).items():
            from_above[person_id].extend(points)
    open_needs: dict[int, int] = dict(
        session.execute(
            select(Need.participant_id, func.count())
            .where(Need.participant_id.in_(ids), Need.status != NeedStatus.RESOLVED)
            .group_by(Need.participant_id)
        ).all()
    )
    completed = []
    for line in lines:
        path = rules.path_dates(
            line.programme.value,
            line.entered_on,
            [
                rules.Renewal(outcome is RenewalOutcome.GRANTED, valid_until)
                for _pid, outcome, valid_until in renewals[line.id]
            ],
        )
        dues: list[tuple[FollowUpKind, date, date | None]] = [
            (kind, due_on, done_on) for _pid, kind, due_on, done_on in follow_ups[line.id]
        ]
        attention = attention_of(
            exited=line.exited_on is not None,
            permit_expires_on=line.permit_expires_on,
            path=path,
            follow_ups=dues,
            today=today,
            consent_ends_on=consents_ending.get(line.id),
        ) + from_above.get(line.id, [])
        completed.append(
            replace(
                line,
                open_needs=open_needs.get(line.id, 0),
                authorised_end=path.authorised_end,
                attention=attention,
            )
        )
    return completed


def _by_person(session: Session, query: Any, column: Any, ids: Any) -> dict[int, list[AnyRow]]:
    grouped: dict[int, list[AnyRow]] = defaultdict(list)
    for row in session.execute(query.where(column.in_(ids))):
        grouped[row[0]].append(row)
    return grouped
