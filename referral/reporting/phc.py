"""Point 4 — Premières Heures: hours at the start and at their highest (4 h → 20 h), the share
reaching 20 h a week or a CDDI and the median weeks it took, and the paths per worksite.

Per path the contracts are reduced by the database (first start, highest hours, first day at
20 h or on a CDDI); the page then groups those by hours band: one statement for the progression
and the worksites."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Integer, and_, case, cast, func, literal_column, null, or_, select, union_all

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
    phc_paths = and_(ctx.paths(), Participant.programme == Programme.PHC, active_in_period(ctx))
    # One row per Premières Heures path of the period, its contracts reduced as they are read
    # beside it (the contracts' index by person): the first contract's hours, the highest, and
    # whole weeks from entry to the first day at 20 h or on a CDDI (integer division in both
    # databases; SQLAlchemy's `//` is FLOOR(), a Python function on SQLite). Materialized: the
    # bands and the worksites read it.
    paths = (
        select(
            Participant.structure_id.label("structure_id"),
            # The first contract's hours, read in the same pass: the smallest (day, tenths of an
            # hour) packed in one integer, unpacked by `% 1000` below.
            func.min(
                ctx.days(ctx.epoch(), Contract.starts_on) * literal_column("1000")
                + cast(Contract.weekly_hours * literal_column("10"), Integer)
            ).label("first_key"),
            func.max(Contract.weekly_hours).label("max_hours"),
            ctx.days(Participant.entered_on, func.min(case((reached, Contract.starts_on))))
            .op("/")(literal_column("7"))
            .label("weeks"),
        )
        .select_from(Participant)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .outerjoin(
            Contract,
            and_(
                Contract.participant_id == Participant.id,
                Contract.kind.in_(INSERTION),
                Contract.starts_on <= end,
            ),
        )
        .where(phc_paths)
        .group_by(Participant.id)
        .cte("phc_paths")
        # PostgreSQL is told; SQLite materializes a CTE read twice of itself (and its keyword
        # needs SQLite 3.35, newer than some systems' own).
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    first_tenths = paths.c.first_key.op("%")(literal_column("1000"))
    # Read two ways in one statement: by hours and delay (structure NULL), by worksite.
    bands_rows = select(
        first_tenths, paths.c.max_hours, paths.c.weeks, null().label("structure_id"), func.count()
    ).group_by(first_tenths, paths.c.max_hours, paths.c.weeks)
    worksite_rows = select(null(), null(), null(), paths.c.structure_id, func.count()).group_by(
        paths.c.structure_id
    )
    start_bands: dict[str, int] = defaultdict(int)
    top_bands: dict[str, int] = defaultdict(int)
    weeks_histogram: list[tuple[float, int]] = []
    per_structure: dict[int, int] = {}
    total = reached_count = 0
    for first_hours, max_hours, weeks_to, structure_id, count in ctx.rows(
        select(union_all(bands_rows, worksite_rows).subquery())
    ):
        if structure_id is not None:
            per_structure[structure_id] = int(count)
            continue
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
    worksites = ctx.among(
        select(Structure.id, Structure.name, Structure.town).order_by(Structure.name, Structure.id),
        Structure.id,
        per_structure,
    )
    by_structure = Table(
        "phc_by_structure",
        "Premières Heures : parcours par chantier",
        (Column("paths", "Parcours"),),
        tuple(
            Row(str(structure_id), f"{name} ({town})", (per_structure[structure_id],))
            for structure_id, name, town in ctx.rows(worksites)
            if structure_id in per_structure
        ),
    )
    return [progression, summary, by_structure]
