"""Nothing forgotten: the bodies of the scheduled jobs, which fill the to-do lists of
`referral.tasks`.

Each job is one function here taking the day (or the moment) it runs for; each is idempotent —
running it twice for the same day changes nothing more — because every task and reminder carries
a key naming what it is about, unique per user (`referral.tasks.services`). The jobs call down
into the domains; no domain imports this package. The retention job's body is the record's own:
`referral.cases.retention`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from referral import clock
from referral.access import offered_in_territory
from referral.cases import rules
from referral.cases.models import (
    Consent,
    Exit,
    FollowUp,
    Participant,
    RenewalOutcome,
)
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.referrals.models import WAITING_STATES, Referral
from referral.referrals.services import expire_overdue
from referral.tasks.models import TaskKind, TaskStatus
from referral.tasks.services import close_tasks, cps_for, ensure_task, notify, task_for_cips
from referral.territories.models import Programme, Role, Territory, User

FOLLOW_UP_NOTICE_DAYS = 14
RENEWAL_NOTICE_DAYS = 60
ENDING_NOTICE_DAYS = 30
REMINDER_EVERY_DAYS = 10


# --- The jobs' services ---------------------------------------------------------------------


def follow_ups_due(session: Session, today: date) -> int:
    """Follow-ups 6 and 12 months after exit: a task for the CIP two weeks before they are due;
    an overdue one shows as « en retard » in « À faire » until it is recorded."""
    horizon = today + timedelta(days=FOLLOW_UP_NOTICE_DAYS)
    pending = session.scalars(
        select(FollowUp)
        .where(FollowUp.done_on.is_(None), FollowUp.due_on <= horizon)
        .options(selectinload(FollowUp.participant))
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    created = 0
    for follow_up in pending:
        person = follow_up.participant
        created += task_for_cips(
            session,
            person,
            key=f"follow_up:{follow_up.id}",
            kind=TaskKind.FOLLOW_UP,
            title=f"{follow_up.kind.label} de {person.first_name} {person.last_name}",
            due_on=follow_up.due_on,
            link=f"/salaries/{person.id}#sortie",
        )
    return created


def renewals_due(session: Session, today: date) -> int:
    """From the end of the second year of a Convergence path: a task 60 days before each
    decision is due, and before the five-year limit."""
    people = session.scalars(
        select(Participant)
        .where(
            Participant.programme == Programme.CVG,
            Participant.anonymised_at.is_(None),
            Participant.id.not_in(select(Exit.participant_id)),
        )
        .options(selectinload(Participant.renewals))
        .order_by(Participant.id)
    ).all()
    created = 0
    for person in people:
        path = rules.path_dates(
            person.programme.value,
            person.entered_on,
            [rules.Renewal(r.outcome is RenewalOutcome.GRANTED, r.valid_until) for r in person.renewals],
        )
        pending = any(r.outcome is RenewalOutcome.PENDING for r in person.renewals)
        due = path.next_decision_due
        if due is not None and not pending and (due - today).days <= RENEWAL_NOTICE_DAYS:
            created += task_for_cips(
                session,
                person,
                key=f"renewal:{person.id}:{due.isoformat()}",
                kind=TaskKind.RENEWAL,
                title=f"Demande de renouvellement de {person.first_name} {person.last_name} "
                f"(parcours autorisé jusqu'au {due:%d/%m/%Y})",
                due_on=due - timedelta(days=15),
                link=f"/salaries/{person.id}#parcours",
            )
        if due is None and (path.hard_limit - today).days <= RENEWAL_NOTICE_DAYS:
            created += task_for_cips(
                session,
                person,
                key=f"path_limit:{person.id}",
                kind=TaskKind.PATH_LIMIT,
                title=f"Fin des cinq ans de parcours de {person.first_name} {person.last_name} le "
                f"{path.hard_limit:%d/%m/%Y} : préparer la sortie",
                due_on=path.hard_limit,
                link=f"/salaries/{person.id}#sortie",
            )
    return created


def referral_reminders(session: Session, now: datetime) -> int:
    """Every 10 days a referral waits on a CP or a partner, its CPs are reminded; past its answer
    delay it expires (and its CIP is told)."""
    expired = expire_overdue(session, now)
    sent = 0
    waiting = session.scalars(
        select(Referral)
        .where(Referral.state.in_(WAITING_STATES), Referral.waiting_since.is_not(None))
        .options(selectinload(Referral.opportunity))
        .order_by(Referral.id)
    ).all()
    for referral in waiting:
        assert referral.waiting_since is not None  # the query keeps only referrals with one
        days = (now - referral.waiting_since).days
        rounds = days // REMINDER_EVERY_DAYS
        if rounds < 1:
            continue
        opportunity = referral.opportunity
        for user_id in cps_for(session, opportunity.offered_territory_ids, opportunity.domain_code):
            sent += notify(
                session,
                user_id=user_id,
                kind="referral_reminder",
                message=f"Orientation vers « {opportunity.title} » en attente depuis {days} jours "
                f"({referral.state.label.lower()}).",
                link=f"/orientations/{referral.id}",
                key=f"referral:{referral.id}:waiting:{rounds * 10}",
            )
            ensure_task(
                session,
                user_id=user_id,
                key=f"referral_waiting:{referral.id}",
                kind=TaskKind.REFERRAL_WAITING,
                title=f"Relancer l'orientation vers « {opportunity.title} »",
                due_on=clock.paris_day(referral.waiting_since) + timedelta(days=REMINDER_EVERY_DAYS),
                link=f"/orientations/{referral.id}",
                participant_id=referral.participant_id,
            )
    for referral_id in expired:
        close_tasks(session, f"referral_waiting:{referral_id}", status=TaskStatus.CANCELLED)
    return sent + len(expired)


def endings(session: Session, today: date) -> int:
    """Opportunities and conventions reaching their end: a task for the CPs 30 days before; an
    opportunity past its end is closed."""
    horizon = today + timedelta(days=ENDING_NOTICE_DAYS)
    changed = 0
    opportunities = session.scalars(
        select(Opportunity)
        .where(
            Opportunity.status.in_([OpportunityStatus.PUBLISHED, OpportunityStatus.PAUSED]),
            Opportunity.valid_until.is_not(None),
            Opportunity.valid_until <= horizon,
        )
        .order_by(Opportunity.id)
    ).all()
    for opportunity in opportunities:
        assert opportunity.valid_until is not None  # the query keeps only opportunities with an end
        if opportunity.valid_until < today:
            opportunity.status = OpportunityStatus.CLOSED
            changed += 1
            close_tasks(session, f"opportunity_ending:{opportunity.id}")
            continue
        for user_id in cps_for(session, opportunity.offered_territory_ids, opportunity.domain_code):
            changed += ensure_task(
                session,
                user_id=user_id,
                key=f"opportunity_ending:{opportunity.id}",
                kind=TaskKind.OPPORTUNITY_ENDING,
                title=(
                    f"« {opportunity.title} » se termine le {opportunity.valid_until:%d/%m/%Y} : "
                    "prolonger ou clôturer"
                ),
                due_on=opportunity.valid_until,
                link=f"/reseau/opportunites/{opportunity.id}",
            )
    partners = session.scalars(
        select(Partner)
        .where(
            Partner.convention_ends_on.is_not(None),
            Partner.convention_ends_on <= horizon,
            Partner.convention_ends_on >= today,
        )
        .order_by(Partner.id)
    ).all()
    for partner in partners:
        assert partner.convention_ends_on is not None  # the query keeps only conventions with an end
        territory_ids = [link.territory_id for link in partner.territory_links]
        for user_id in cps_for(session, territory_ids, None):
            changed += ensure_task(
                session,
                user_id=user_id,
                key=f"convention_ending:{partner.id}:{partner.convention_ends_on}",
                kind=TaskKind.CONVENTION_ENDING,
                title=f"Convention avec {partner.name} échue le {partner.convention_ends_on:%d/%m/%Y}",
                due_on=partner.convention_ends_on,
                link=f"/reseau/partenaires/{partner.id}",
            )
    session.flush()
    return changed


def consents_ending(session: Session, today: date) -> int:
    horizon = today + timedelta(days=ENDING_NOTICE_DAYS)
    consents = session.scalars(
        select(Consent)
        .where(
            Consent.revoked_on.is_(None),
            Consent.expires_on.is_not(None),
            Consent.expires_on <= horizon,
            Consent.expires_on >= today,
        )
        .options(selectinload(Consent.participant))
        .order_by(Consent.id)
    ).all()
    created = 0
    for consent in consents:
        assert consent.expires_on is not None  # the query keeps only consents with an end
        person = consent.participant
        created += task_for_cips(
            session,
            person,
            key=f"consent_ending:{consent.id}",
            kind=TaskKind.CONSENT_ENDING,
            title=f"Consentement de {person.first_name} {person.last_name} "
            f"({consent.data_category.label} → {consent.recipient.label}) à renouveler",
            due_on=consent.expires_on,
            link=f"/salaries/{person.id}#consentements",
        )
    return created


def weekly_digest(session: Session, today: date) -> int:
    """Each Monday, the CPs and coordinator of a territory get what changed in the network during
    the week, to prepare the next mutualisation meeting."""
    week = today.isocalendar()
    since = datetime.combine(today - timedelta(days=7), datetime.min.time()).astimezone()
    sent = 0
    for territory in session.scalars(select(Territory).order_by(Territory.id)):
        new_opportunities = session.scalars(
            select(Opportunity.title)
            .where(offered_in_territory(territory.id), Opportunity.published_at >= since)
            .order_by(Opportunity.title)
        ).all()
        if not new_opportunities:
            continue
        message = (
            f"Semaine {week.week} : {len(new_opportunities)} nouvelle(s) opportunité(s) à présenter "
            f"à la prochaine réunion de mutualisation ({', '.join(new_opportunities[:5])}"
            f"{'…' if len(new_opportunities) > 5 else ''})."
        )
        staff = session.scalars(
            select(User.id)
            .where(User.territory_id == territory.id, User.role.in_([Role.CP, Role.COORDINATOR]))
            .order_by(User.id)
        )
        for user_id in staff:
            sent += notify(
                session,
                user_id=user_id,
                kind="weekly_digest",
                message=message,
                link="/reseau/reunions",
                key=f"digest:{territory.slug}:{week.year}-{week.week}",
            )
    return sent
