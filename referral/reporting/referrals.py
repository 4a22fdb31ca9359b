"""Point 6 — referrals: by domain, partner and state, the acceptance rate, the median days to the
partner's answer, the reasons for refusals and abandons, and the needs nothing answers.

Each referral is first reduced by the database to a few facts (its domain, partner, when it was
first sent, when the partner first answered, whether it was accepted or refused) from its
transitions; the tables group those facts. Medians come from a histogram of whole days.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from referral.cases.models import Exit, Need, Participant
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference import queries as reference
from referral.referrals.models import Referral, ReferralState, ReferralTransition
from referral.reporting.context import Context
from referral.reporting.figures import Column, Ratio, Row, Stat, Table, histogram_stats
from referral.territories.models import Structure

ANSWERS = (ReferralState.ACCEPTED, ReferralState.WAITLISTED, ReferralState.REFUSED)
REASON_ACTIONS = {
    "decline": ("referral_decline_reason", "Refusée par le ou la CP"),
    "partner_refuse": ("referral_refusal_reason", "Refusée par le partenaire"),
    "abandon": ("referral_abandon_reason", "Abandonnée"),
}


def _created_in_period(ctx: Context) -> ColumnElement[bool]:
    start, end = ctx.period.bounds()
    return and_(Referral.created_at >= start, Referral.created_at < end)


def _facts(ctx: Context) -> CTE:
    """One row per referral of the scope created in the period, with its facts. Grouped by the
    referral alone (its offer is one of its columns), so the database aggregates its moves as it
    reads them in order. Materialized: the two groupings below read it, and it is computed once."""
    state = ReferralTransition.to_state
    start, _end = ctx.period.bounds()
    return (
        ctx.scoped(
            select(
                Referral.id.label("referral_id"),
                Referral.opportunity_id.label("opportunity_id"),
                func.min(case((state == ReferralState.SENT, ReferralTransition.at))).label("sent_at"),
                func.min(case((state.in_(ANSWERS), ReferralTransition.at))).label("answer_at"),
                func.max(case((state == ReferralState.ACCEPTED, 1), else_=0)).label("accepted"),
                func.max(case((state == ReferralState.REFUSED, 1), else_=0)).label("refused"),
            ).select_from(Referral),
            Referral.participant_id,
        )
        # A referral's moves are never before its creation (the first one is its creation, at
        # the same moment): only the moves from the start of the period can be those of the
        # referrals created in it. PostgreSQL then joins the year's moves, not every move ever
        # made (105,000 of 280,000 for the national report).
        .outerjoin(
            ReferralTransition,
            and_(ReferralTransition.referral_id == Referral.id, ReferralTransition.at >= start),
        )
        .where(_created_in_period(ctx))
        .group_by(Referral.id)
        .cte("referral_facts")
        # PostgreSQL is told; SQLite materializes a CTE read twice of itself (and its keyword
        # needs SQLite 3.35, newer than some systems' own).
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )


def _grouped_facts(ctx: Context) -> Select[*tuple[Any, ...]]:
    """The referrals' facts read two ways in one statement (one reading of the moves):

    - by domain and whole days to the answer: the domain table and its median delays, a few
      hundred rows whatever the number of referrals;
    - by partner, the referrals sent: one row per partner.

    Each row: (domain or NULL, partner or NULL, days or NULL, referrals, sent, answered,
    accepted). Grouping the two at once, by domain, partner and delay together, gave one row
    per referral or nearly (33,000 rows for the national report, read and summed in Python)."""
    facts = _facts(ctx)
    sent = Context.flag(facts.c.sent_at.is_not(None))
    # An acceptance later refused (or the reverse) cannot happen in the lifecycle; accepted wins.
    answered = Context.flag(
        or_(facts.c.accepted == literal_column("1"), facts.c.refused == literal_column("1"))
    )
    days = func.round(ctx.days_between_times(facts.c.sent_at, facts.c.answer_at))
    by_domain = (
        select(
            Opportunity.domain_code.label("domain"),
            null().label("partner_id"),
            days.label("days"),
            func.count().label("referrals"),
            func.sum(sent).label("sent"),
            func.sum(answered).label("answered"),
            func.sum(facts.c.accepted).label("accepted"),
        )
        .select_from(facts)
        .join(Opportunity, Opportunity.id == facts.c.opportunity_id)
        .group_by(Opportunity.domain_code, days)
    )
    by_partner = (
        select(
            null().label("domain"),
            Opportunity.partner_id,
            null(),
            func.count(),
            func.count(),
            func.sum(answered),
            func.sum(facts.c.accepted),
        )
        .select_from(facts)
        .join(Opportunity, Opportunity.id == facts.c.opportunity_id)
        .where(facts.c.sent_at.is_not(None))
        .group_by(Opportunity.partner_id)
    )
    return select(union_all(by_domain, by_partner).subquery())


def referrals(ctx: Context) -> list[Table]:
    session = ctx.session
    domains = {d.code: d.label for d in reference.domains(session)}
    by_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_partner: dict[int, list[int]] = {}
    delays: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for domain, partner_id, day_count, count, sent_n, answered_n, accepted_n in ctx.rows(_grouped_facts(ctx)):
        if partner_id is not None:
            by_partner[partner_id] = [int(count), int(answered_n or 0), int(accepted_n or 0)]
            continue
        figures = by_domain[domain]
        figures[0] += int(count)
        figures[1] += int(sent_n or 0)
        figures[2] += int(answered_n or 0)
        figures[3] += int(accepted_n or 0)
        # Days are only known for a referral both sent and answered.
        if day_count is not None:
            delays[domain][float(day_count)] += int(count)
            delays["total"][float(day_count)] += int(count)

    columns = (
        Column("referrals", "Orientations"),
        Column("sent", "Transmises"),
        Column("answered", "Réponses"),
        Column("accepted", "Acceptées"),
        Column("acceptance", "Taux d'acceptation", "share"),
        Column("answer_days", "Délai médian de réponse (jours)", "days"),
    )

    def line(key: str, label: str, figures: list[int], *, total: bool = False) -> Row:
        _mean, median, n = histogram_stats(delays.get(key, {}).items())
        count, sent_n, answered_n, accepted_n = figures
        return Row(
            key,
            label,
            (count, sent_n, answered_n, accepted_n, Ratio(accepted_n, answered_n), Stat(median, n)),
            total=total,
        )

    domain_rows = [
        line(code, domains.get(code, code), by_domain[code]) for code in domains if code in by_domain
    ]
    domain_rows += [
        line(code, code, figures) for code, figures in sorted(by_domain.items()) if code not in domains
    ]
    totals = [sum(figures[i] for figures in by_domain.values()) for i in range(4)]
    domain_rows.append(line("total", "Toutes les orientations", totals, total=True))

    named = ctx.among(select(Partner.id, Partner.name), Partner.id, by_partner)
    names = {pid: name for pid, name in ctx.rows(named) if pid in by_partner}
    partner_rows = tuple(
        Row(
            str(partner_id),
            names.get(partner_id, str(partner_id)),
            (n, answered_n, accepted_n, Ratio(accepted_n, answered_n)),
        )
        for partner_id, (n, answered_n, accepted_n) in sorted(
            by_partner.items(), key=lambda item: (-item[1][0], names.get(item[0], ""), item[0])
        )
    )

    states = dict(
        ctx.rows(
            ctx.scoped(select(Referral.state, func.count()), Referral.participant_id)
            .where(_created_in_period(ctx))
            .group_by(Referral.state)
        ).all()
    )
    state_rows = tuple(
        Row(state.value, state.label, (int(states[state]),)) for state in ReferralState if states.get(state)
    )

    reasons: dict[tuple[str, str | None], int] = {}
    for action, reason, count in ctx.rows(
        ctx.scoped(
            select(ReferralTransition.action, ReferralTransition.reason, func.count()).join(
                Referral, Referral.id == ReferralTransition.referral_id
            ),
            Referral.participant_id,
        )
        .where(_created_in_period(ctx), ReferralTransition.action.in_(list(REASON_ACTIONS)))
        .group_by(ReferralTransition.action, ReferralTransition.reason)
    ):
        reasons[(action, reason)] = int(count)
    reason_rows = []
    for action, (list_name, action_label) in REASON_ACTIONS.items():
        labels = reference.labels(session, list_name)
        for code, label in [*labels.items(), (None, "Motif non précisé")]:
            count = reasons.get((action, code), 0)
            if count:
                reason_rows.append(Row(f"{action}:{code or ''}", f"{action_label} — {label}", (count,)))
    return [
        Table("referrals_by_domain", "Orientations par domaine", columns, tuple(domain_rows)),
        Table(
            "referrals_by_state", "Orientations par état", (Column("referrals", "Orientations"),), state_rows
        ),
        Table(
            "referrals_by_partner",
            "Orientations par partenaire",
            (columns[1], columns[2], columns[3], columns[4]),
            partner_rows,
            chart="none",
        ),
        Table(
            "referral_reasons",
            "Motifs de refus et d'abandon",
            (Column("referrals", "Orientations"),),
            tuple(reason_rows),
        ),
    ]


def needs_without_answer(ctx: Context) -> list[Table]:
    """Needs still open at the end of the period, with no referral in their domain for the
    person, and with no published offer of their domain in the person's territory today."""
    end = ctx.period.end
    _start, end_bound = ctx.period.bounds()
    # Whether the person has a referral of the need's domain before the end. SQLite looks it up
    # among the person's referrals (index `ix_referrals_participant_id`): a fifth less work than
    # grouping the scope's (person, domain) pairs first and joining them through an automatic
    # index (national benchmark: 1.03 -> 0.84 s of CPU). PostgreSQL hashes the pairs once: the
    # same look-up there is a hashed subplan evaluated for the select list and again for the
    # grouping (0.8 -> 2.8 s), so it keeps the grouped pairs.
    referred_flag: ColumnElement[Any]
    if ctx.sqlite:
        referred_flag = Context.flag(
            select(Referral.id)
            .join(Opportunity, Opportunity.id == Referral.opportunity_id)
            .where(
                Referral.participant_id == Need.participant_id,
                Opportunity.domain_code == Need.domain_code,
                Referral.created_at < end_bound,
            )
            .exists()
        )
        referred_join = None
    else:
        # The (person, domain) pairs with a referral before the end, grouped once and joined;
        # only the scope's people: a territory's page does not group the country's referrals.
        pairs = ctx.scoped(
            select(Referral.participant_id.label("participant_id"), Opportunity.domain_code.label("domain"))
            .join(Opportunity, Opportunity.id == Referral.opportunity_id)
            .where(Referral.created_at < end_bound)
            .group_by(Referral.participant_id, Opportunity.domain_code),
            Referral.participant_id,
        )
        # MATERIALIZED: grouped once, not rerun per need when the planner misjudges how many
        # needs there are.
        referred = pairs.cte("referred").prefix_with("MATERIALIZED", dialect="postgresql")
        referred_flag = Context.flag(referred.c.participant_id.is_not(None))
        referred_join = (
            referred,
            and_(referred.c.participant_id == Need.participant_id, referred.c.domain == Need.domain_code),
        )
    statement = (
        select(Structure.territory_id, Need.domain_code, referred_flag, func.count())
        .join(Participant, Participant.id == Need.participant_id)
        .join(Structure, Structure.id == Participant.structure_id)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
    )
    if referred_join is not None:
        statement = statement.outerjoin(*referred_join)
    counts: dict[tuple[int | None, str, bool], int] = defaultdict(int)
    for territory_id, domain, flag, count in ctx.rows(
        statement.where(
            ctx.paths(),
            Need.opened_on <= end,
            Context.out_on(Need.resolved_on) > end,
            Participant.entered_on <= end,
            Context.out_on(Exit.exited_on) > end,
        ).group_by(Structure.territory_id, Need.domain_code, referred_flag)
    ):
        counts[(territory_id, domain, bool(flag))] += int(count)
    # Where each domain has a published offer today: a few hundred (territory, domain) pairs.
    local = select(Opportunity.territory_id, Opportunity.domain_code).where(
        Opportunity.status == OpportunityStatus.PUBLISHED, Opportunity.territory_id.is_not(None)
    )
    national = (
        select(PartnerTerritory.territory_id, Opportunity.domain_code)
        .join(Opportunity, Opportunity.partner_id == PartnerTerritory.partner_id)
        .where(
            Opportunity.status == OpportunityStatus.PUBLISHED,
            Opportunity.territory_id.is_(None),
            PartnerTerritory.status == DeploymentStatus.DEPLOYED,
        )
    )
    if ctx.scope.kind != "all":
        # Only the scope's territory: a territory's page does not read the country's offers.
        territory_id = ctx.scope.id if ctx.scope.kind == "territory" else ctx.scope.territory_id
        local = local.where(Opportunity.territory_id == territory_id)
        national = national.where(PartnerTerritory.territory_id == territory_id)
    covered = {(t, d) for t, d in ctx.rows(local.union(national)).all()}
    per_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (territory_id, domain, has_referral), count in counts.items():
        figures = per_domain[domain]
        figures[0] += count
        if not has_referral:
            figures[1] += count
        if (territory_id, domain) not in covered:
            figures[2] += count
    domains = {d.code: d.label for d in reference.domains(ctx.session)}
    rows = [
        Row(code, label, tuple(per_domain[code])) for code, label in domains.items() if code in per_domain
    ]
    total = tuple(sum(figures[i] for figures in per_domain.values()) for i in range(3))
    rows.append(Row("total", "Tous les domaines", total, total=True))
    return [
        Table(
            "needs_without_answer",
            "Besoins sans réponse",
            (
                Column("open", "Freins ouverts"),
                Column("without_referral", "Sans orientation"),
                Column("without_offer", "Sans offre sur le territoire"),
            ),
            tuple(rows),
        )
    ]
