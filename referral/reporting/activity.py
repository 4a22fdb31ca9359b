"""Point 1 — activity: the « file active », entries, exits, path lengths, paths past 24 months,
renewals; and the monthly series of entries and exits. A handful of grouped statements whatever
the number of people (definitions: `definitions.DEFINITIONS["activity"]`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select

from referral.cases.models import Exit, Participant, RenewalDecision, RenewalOutcome
from referral.reporting.context import Context, month_label
from referral.reporting.definitions import DAYS_PER_MONTH, PATH_PAST_DAYS
from referral.reporting.figures import Cell, Column, Row, Stat, Table, histogram_stats
from referral.territories.models import Programme

TOTAL = "total"


def _programmes(ctx: Context) -> list[Programme]:
    return [ctx.programme] if ctx.programme is not None else list(Programme)


def _columns(ctx: Context) -> tuple[Column, ...]:
    columns = [Column(p.value, p.label) for p in _programmes(ctx)]
    if ctx.programme is None:
        columns.append(Column(TOTAL, "Ensemble"))
    return tuple(columns)


def active_in_period(ctx: Context) -> ColumnElement[bool]:
    """Paths under way at some moment of the period: entered before its end, not out before it
    starts (`Exit` outer-joined)."""
    return and_(
        Participant.entered_on <= ctx.period.end,
        Context.out_on(Exit.exited_on) >= ctx.period.start,
    )


def activity(ctx: Context) -> list[Table]:
    period = ctx.period
    start, end = period.start, period.end
    entered = and_(Participant.entered_on >= start, Participant.entered_on <= end)
    exited = and_(Exit.exited_on >= start, Exit.exited_on <= end)
    last_day = case((and_(Exit.id.is_not(None), Exit.exited_on < end), Exit.exited_on), else_=ctx.end())
    past_24 = ctx.days(Participant.entered_on, last_day) > PATH_PAST_DAYS

    # One statement: the paths grouped by who they are (a person who left and came back has
    # several), each group's paths counted per programme, then summed. Paths minus the extra
    # paths of each person gives the people; a person is counted once in « Ensemble » even with
    # a path in each programme.
    flags: list[Any] = []
    for programme in Programme:
        mine = Participant.programme == programme
        flags += [
            func.sum(Context.flag(mine)),
            func.sum(Context.flag(and_(mine, entered))),
            func.sum(Context.flag(and_(mine, exited))),
            func.sum(Context.flag(and_(mine, past_24))),
        ]
    per_person = (
        select(func.count().label("paths"), *(flag.label(f"f{i}") for i, flag in enumerate(flags)))
        .select_from(Participant)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(ctx.paths(), active_in_period(ctx))
        .group_by(*ctx.person_columns())
        .subquery()
    )
    one: ColumnElement[Any] = literal_column("1")

    def extra(column: Any) -> Any:
        return func.sum(case((column > one, column - one), else_=literal_column("0")))

    values = ctx.rows(
        select(
            extra(per_person.c.paths),
            *(
                part
                for i in range(len(flags))
                for part in (
                    (func.sum(per_person.c[f"f{i}"]), extra(per_person.c[f"f{i}"]))
                    if i % 4 == 0
                    else (func.sum(per_person.c[f"f{i}"]),)
                )
            ),
        )
    ).one()
    numbers = [int(v or 0) for v in values]
    extra_paths = numbers[0]
    by_programme: dict[str, tuple[int, ...]] = {}
    for index, programme in enumerate(Programme):
        paths, extra_mine, entries, exits, past = numbers[1 + 5 * index : 6 + 5 * index]
        by_programme[programme.value] = (paths - extra_mine, paths, entries, exits, past)
    parts = list(by_programme.values())
    totals = [sum(part[i] for part in parts) for i in range(1, 5)]
    by_programme[TOTAL] = (totals[0] - extra_paths, *totals)

    # Path lengths of the exits of the period: a histogram of days per programme.
    lengths: dict[str, list[tuple[float, int]]] = defaultdict(list)
    days = ctx.days(Participant.entered_on, Exit.exited_on)
    for programme, length, count in ctx.rows(
        select(Participant.programme, days, func.count())
        .join(Exit, Exit.participant_id == Participant.id)
        .where(ctx.paths(), exited)
        .group_by(Participant.programme, days)
        .order_by(Participant.programme, days)
    ):
        lengths[programme.value].append((length / DAYS_PER_MONTH, count))
        lengths[TOTAL].append((length / DAYS_PER_MONTH, count))

    # Renewals: asked in the period, decided in the period, waiting at its end.
    decided = and_(RenewalDecision.decided_on >= start, RenewalDecision.decided_on <= end)
    renewals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for programme, requested, granted, refused, pending in ctx.rows(
        select(
            Participant.programme,
            func.sum(
                case(
                    (and_(RenewalDecision.requested_on >= start, RenewalDecision.requested_on <= end), 1),
                    else_=0,
                )
            ),
            func.sum(case((and_(decided, RenewalDecision.outcome == RenewalOutcome.GRANTED), 1), else_=0)),
            func.sum(case((and_(decided, RenewalDecision.outcome == RenewalOutcome.REFUSED), 1), else_=0)),
            func.sum(
                case(
                    (
                        and_(
                            RenewalDecision.requested_on <= end,
                            or_(RenewalDecision.decided_on.is_(None), RenewalDecision.decided_on > end),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .join(RenewalDecision, RenewalDecision.participant_id == Participant.id)
        .where(ctx.paths())
        .group_by(Participant.programme)
        .order_by(Participant.programme)
    ):
        for key in (programme.value, TOTAL):
            for name, value in (
                ("renewals_requested", requested),
                ("renewals_granted", granted),
                ("renewals_refused", refused),
                ("renewals_pending", pending),
            ):
                renewals[key][name] += int(value or 0)

    columns = _columns(ctx)
    keys = [column.key for column in columns]

    def line(key: str, label: str, index: int) -> Row:
        return Row(key, label, tuple(by_programme.get(k, (0, 0, 0, 0, 0))[index] for k in keys))

    def stat(which: int) -> tuple[Cell, ...]:
        cells: list[Cell] = []
        for k in keys:
            mean, median, n = histogram_stats(lengths.get(k, []))
            cells.append(Stat(mean if which == 0 else median, n))
        return tuple(cells)

    rows = [
        line("people", "Personnes accompagnées (file active)", 0),
        line("paths", "Parcours en cours", 1),
        line("entries", "Entrées", 2),
        line("exits", "Sorties", 3),
        Row("mean_months", "Durée moyenne des parcours sortis (mois)", stat(0)),
        Row("median_months", "Durée médiane des parcours sortis (mois)", stat(1)),
        line("past_24_months", "Parcours de plus de 24 mois", 4),
        *(
            Row(name, label, tuple(renewals.get(k, {}).get(name, 0) for k in keys))
            for name, label in (
                ("renewals_requested", "Renouvellements demandés"),
                ("renewals_granted", "Renouvellements accordés"),
                ("renewals_refused", "Renouvellements refusés"),
                ("renewals_pending", "Renouvellements en attente à la fin de la période"),
            )
        ),
    ]
    summary = Table("activity", "Activité", columns, tuple(rows), chart="none")
    return [summary, monthly(ctx)]


def monthly(ctx: Context) -> Table:
    """Entries and exits month by month: two grouped statements."""
    start, end = ctx.period.start, ctx.period.end
    entries: dict[str, int] = dict(
        ctx.rows(
            select(ctx.month(Participant.entered_on), func.count())
            .where(ctx.paths(), Participant.entered_on >= start, Participant.entered_on <= end)
            .group_by(ctx.month(Participant.entered_on))
        ).all()
    )
    exits: dict[str, int] = dict(
        ctx.rows(
            ctx.scoped(select(ctx.month(Exit.exited_on), func.count()), Exit.participant_id)
            .where(Exit.exited_on >= start, Exit.exited_on <= end)
            .group_by(ctx.month(Exit.exited_on))
        ).all()
    )
    rows = tuple(
        Row(month, month_label(month), (int(entries.get(month, 0)), int(exits.get(month, 0))))
        for month in ctx.period.months()
    )
    return Table(
        "activity_monthly",
        "Entrées et sorties par mois",
        (Column("entries", "Entrées"), Column("exits", "Sorties")),
        rows,
        chart="series",
    )
