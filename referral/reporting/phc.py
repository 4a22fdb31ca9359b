"""Point 4 — Premières Heures: hours at the start and at their highest (4 h → 20 h), the share
reaching 20 h a week or a CDDI and the median weeks it took, and the paths per worksite.

Per person the contracts are reduced by the database (first start, highest hours, first day at
20 h or on a CDDI); the page then groups those by hours band: one statement for the progression,
one for the worksites."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Integer, and_, case, cast, func, literal_column, or_, select

from referral.cases.models import Contract, ContractKind, Exit, Participant
from referral.reporting.activity import active_in_period
from referral.reporting.context import Context
from referral.reporting.definitions import PHC_TARGET_HOURS
from referral.reporting.figures import Column, Ratio, Row, Stat, Table, histogram_stats
from referral.territories.models import Programme, Structure

INSERTION = (ContractKind.CDDI, ContractKind.CDDI_CVG, ContractKind.CDDI_PHC)
# A CDDI other than the Premières Heures one is the step after PHC.
NEXT_STEP = (ContractKind.CDDI, ContractKind.CDDI_CVG)
BANDS = (
    ("4", "4 h", 0.0, 4.0),
    ("5_8", "5 à 8 h", 4.0, 8.0),
    ("9_12", "9 à 12 h", 8.0, 12.0),
    ("13_19", "13 à 19 h", 12.0, 19.99),
    ("20", "20 h et plus", 19.99, 99.0),
)
NO_CONTRACT = "none"


def band(hours: float | None) -> str:
    if hours is None:
        return NO_CONTRACT
    for key, _label, low, high in BANDS:
        if low < hours <= high:
            return key
    return BANDS[-1][0]


def phc(ctx: Context) -> list[Table]:
    if ctx.programme is Programme.CVG:
        return []
    end = ctx.period.end
    reached = or_(Contract.weekly_hours >= PHC_TARGET_HOURS, Contract.kind.in_(NEXT_STEP))
    per_person = (
        select(
            Contract.participant_id.label("participant_id"),
            # The first contract's hours, read in the same pass: the smallest (day, tenths of an
            # hour) packed in one integer, unpacked by `% 1000` below.
            func.min(
                ctx.days(ctx.epoch(), Contract.starts_on) * literal_column("1000")
                + cast(Contract.weekly_hours * literal_column("10"), Integer)
            ).label("first_key"),
            func.max(Contract.weekly_hours).label("max_hours"),
            func.min(case((reached, Contract.starts_on))).label("reached_on"),
        )
        .where(
            Contract.kind.in_(INSERTION),
            Contract.starts_on <= end,
            # Only the scope's PHC people: a territory's page does not read the country's contracts.
            Contract.participant_id.in_(
                select(Participant.id).where(ctx.paths(), Participant.programme == Programme.PHC)
            ),
        )
        .group_by(Contract.participant_id)
        .subquery()
    )
    first_tenths = per_person.c.first_key.op("%")(literal_column("1000"))
    # Whole weeks: integer division in both databases (SQLAlchemy's `//` is FLOOR(), a Python
    # function on SQLite).
    weeks = ctx.days(Participant.entered_on, per_person.c.reached_on).op("/")(literal_column("7"))
    phc_paths = and_(ctx.paths(), Participant.programme == Programme.PHC, active_in_period(ctx))
    start_bands: dict[str, int] = defaultdict(int)
    top_bands: dict[str, int] = defaultdict(int)
    weeks_histogram: list[tuple[float, int]] = []
    total = reached_count = 0
    for first_hours, max_hours, weeks_to, count in ctx.rows(
        select(first_tenths, per_person.c.max_hours, weeks, func.count())
        .select_from(Participant)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .outerjoin(per_person, per_person.c.participant_id == Participant.id)
        .where(phc_paths)
        .group_by(first_tenths, per_person.c.max_hours, weeks)
    ):
        first_hours = None if first_hours is None else int(first_hours) / 10
        count = int(count)
        total += count
        start_bands[band(first_hours)] += count
        top_bands[band(max_hours)] += count
        if weeks_to is not None:
            reached_count += count
            weeks_histogram.append((max(float(weeks_to), 0.0), count))
    _mean, median_weeks, n = histogram_stats(weeks_histogram)
    bands = [*((key, label) for key, label, _low, _high in BANDS), (NO_CONTRACT, "Sans contrat enregistré")]
    progression = Table(
        "phc_progression",
        "Premières Heures : progression des heures",
        (Column("start", "Au départ (parcours)"), Column("top", "Au plus haut (parcours)")),
        tuple(
            Row(key, label, (start_bands.get(key, 0), top_bands.get(key, 0)))
            for key, label in bands
            if key != NO_CONTRACT or start_bands.get(key)
        ),
        chart="bars",
    )
    summary = Table(
        "phc_summary",
        "Premières Heures : vers 20 heures",
        (Column("value", "Valeur"), Column("share", "Part des parcours", "share")),
        (
            Row("paths", "Parcours Premières Heures en cours", (total, None)),
            Row(
                "reached",
                "Ont atteint 20 h par semaine ou un CDDI",
                (reached_count, Ratio(reached_count, total)),
            ),
            Row("median_weeks", "Délai médian pour y parvenir (semaines)", (Stat(median_weeks, n), None)),
        ),
        chart="none",
    )
    by_structure = Table(
        "phc_by_structure",
        "Premières Heures : parcours par chantier",
        (Column("paths", "Parcours"),),
        tuple(
            Row(str(structure_id), f"{name} ({town})", (int(count),))
            for structure_id, name, town, count in ctx.rows(
                select(Structure.id, Structure.name, Structure.town, func.count(Participant.id))
                .join(Participant, Participant.structure_id == Structure.id)
                .outerjoin(Exit, Exit.participant_id == Participant.id)
                .where(phc_paths)
                .group_by(Structure.id, Structure.name, Structure.town)
                .order_by(Structure.name, Structure.id)
            )
        ),
    )
    return [progression, summary, by_structure]
