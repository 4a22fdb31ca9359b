"""Point 5 — after the exit: follow-ups due 6 and 12 months after it, done, late, and what they
found (still in a job, still housed, contact lost…)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from referral.cases.models import Exit, FollowUp, FollowUpKind
from referral.reporting.context import Context
from referral.reporting.definitions import FOLLOW_UP_GROUPS
from referral.reporting.figures import Column, Ratio, Row, Table

OTHER = "autre"


def follow_ups(ctx: Context) -> list[Table]:
    session, start, end, today = ctx.session, ctx.period.start, ctx.period.end, ctx.today
    done = FollowUp.done_on.is_not(None)
    late = FollowUp.done_on.is_(None) & (FollowUp.due_on < today)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    outcomes: dict[tuple[str, str], int] = defaultdict(int)
    for kind, is_done, is_late, outcome, count in ctx.rows(
        ctx.scoped(
            select(FollowUp.kind, Context.flag(done), Context.flag(late), FollowUp.outcome, func.count()),
            FollowUp.participant_id,
        )
        .where(FollowUp.due_on >= start, FollowUp.due_on <= end)
        .group_by(FollowUp.kind, Context.flag(done), Context.flag(late), FollowUp.outcome)
    ):
        count = int(count)
        for key in (kind.value, "total"):
            counts[(key, "due")] += count
            if is_done:
                counts[(key, "done")] += count
                outcomes[(key, outcome)] += count
            elif is_late:
                counts[(key, "late")] += count
            else:
                counts[(key, "upcoming")] += count
    # Exits of the period whose first follow-up falls after it: counted apart, not as due.
    not_yet = int(
        session.scalar(
            ctx.scoped(
                select(func.count()).select_from(FollowUp).join(Exit, Exit.id == FollowUp.exit_id),
                FollowUp.participant_id,
            ).where(
                FollowUp.kind == FollowUpKind.SIX_MONTHS,
                Exit.exited_on >= start,
                Exit.exited_on <= end,
                FollowUp.due_on > end,
            )
        )
        or 0
    )
    keys = [kind.value for kind in FollowUpKind] + ["total"]
    columns = (*(Column(kind.value, kind.label) for kind in FollowUpKind), Column("total", "Ensemble"))
    status_rows = [
        Row(name, label, tuple(counts.get((key, name), 0) for key in keys))
        for name, label in (
            ("due", "Suivis dus dans la période"),
            ("done", "Faits"),
            ("late", "En retard (échéance passée, pas faits)"),
            ("upcoming", "À venir (échéance pas encore passée)"),
        )
    ]
    status_rows.append(
        Row(
            "done_share",
            "Part des suivis faits",
            tuple(Ratio(counts.get((k, "done"), 0), counts.get((k, "due"), 0)) for k in keys),
        )
    )
    status_rows.append(
        Row("exits_not_yet_due", "Sorties de la période sans suivi encore dû", (not_yet, None, not_yet))
    )
    group_of = {code: group for group, (_label, codes) in FOLLOW_UP_GROUPS.items() for code in codes}
    grouped: dict[tuple[str, str], int] = defaultdict(int)
    for (key, outcome), count in outcomes.items():
        grouped[(key, group_of.get(outcome or "", OTHER))] += count
    labels = [(group, label) for group, (label, _codes) in FOLLOW_UP_GROUPS.items()] + [
        (OTHER, "Autre résultat")
    ]
    done_total = counts.get(("total", "done"), 0)
    outcome_rows = tuple(
        Row(
            group,
            label,
            (
                *(grouped.get((key, group), 0) for key in keys),
                Ratio(grouped.get(("total", group), 0), done_total),
            ),
        )
        for group, label in labels
        if group != OTHER or grouped.get(("total", OTHER))
    )
    return [
        Table("follow_ups", "Suivis après la sortie", columns, tuple(status_rows), chart="none"),
        Table(
            "follow_up_outcomes",
            "Résultats des suivis",
            (*columns, Column("share", "Part des suivis faits", "share")),
            outcome_rows,
        ),
    ]
