"""Points 2 and 3 — exits by DGEFP family and type, the « sorties dynamiques » rate, and the
situation at entry and at exit (housing, health coverage and treating doctor, rights opened)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, func, literal_column, select

from referral.cases.models import Exit, HealthRecord, Participant
from referral.reference import queries as reference
from referral.reporting.context import Context
from referral.reporting.definitions import (
    COVERAGE_RANK,
    DYNAMIC_FAMILIES,
    HOUSED_GROUPS,
    HOUSING_GROUP_OF,
    HOUSING_GROUPS,
    UNKNOWN,
    UNKNOWN_LABEL,
)
from referral.reporting.figures import Column, Ratio, Row, Table


def _exits_in_period(ctx: Context) -> ColumnElement[bool]:
    return (Exit.exited_on >= ctx.period.start) & (Exit.exited_on <= ctx.period.end)


def exits(ctx: Context) -> list[Table]:
    by_type: dict[str, int] = {
        code: int(count)
        for code, count in ctx.rows(
            ctx.scoped(select(Exit.exit_type, func.count()), Exit.participant_id)
            .where(_exits_in_period(ctx))
            .group_by(Exit.exit_type)
            .order_by(Exit.exit_type)
        )
    }
    families = {
        code: extra.get("family", "autre_sortie")
        for code, extra in reference.extras(ctx.session, "exit_type").items()
    }
    family_labels = reference.labels(ctx.session, "exit_family")
    type_labels = reference.labels(ctx.session, "exit_type")
    total = sum(by_type.values())
    by_family: dict[str, int] = defaultdict(int)
    for code, count in by_type.items():
        by_family[families.get(code, "autre_sortie")] += count
    dynamic = sum(by_family.get(family, 0) for family in DYNAMIC_FAMILIES)
    family_rows = [
        Row(code, label, (by_family.get(code, 0), Ratio(by_family.get(code, 0), total)))
        for code, label in family_labels.items()
    ]
    family_rows.append(Row("total", "Toutes les sorties", (total, Ratio(total, total)), total=True))
    family_rows.append(
        Row(
            "dynamic",
            "Sorties dynamiques (emploi durable, de transition, positives)",
            (dynamic, Ratio(dynamic, total)),
            total=True,
        )
    )
    share = (Column("exits", "Sorties"), Column("share", "Part des sorties", "share"))
    type_rows = [
        Row(
            code,
            f"{label} ({family_labels.get(families.get(code, ''), '')})",
            (by_type[code], Ratio(by_type[code], total)),
        )
        for code, label in type_labels.items()
        if by_type.get(code)
    ]
    type_rows += [
        Row(code, code, (count, Ratio(count, total)))
        for code, count in sorted(by_type.items())
        if code not in type_labels
    ]
    return [
        Table("exits_by_family", "Sorties par famille (DGEFP)", share, tuple(family_rows)),
        Table("exits_by_type", "Sorties par type", share, tuple(type_rows)),
    ]


def _group(code: str | None) -> str:
    if code is None:
        return UNKNOWN
    return HOUSING_GROUP_OF.get(code, UNKNOWN)


def entry_exit(ctx: Context) -> list[Table]:
    session = ctx.session
    in_period = _exits_in_period(ctx)
    # Housing at entry and at exit: one grouped statement, codes grouped in Python.
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for at_entry, at_exit, count in ctx.rows(
        select(Participant.housing_status_at_entry, Exit.housing_status, func.count())
        .join(Exit, Exit.participant_id == Participant.id)
        .where(ctx.paths(), in_period)
        .group_by(Participant.housing_status_at_entry, Exit.housing_status)
        .order_by(Participant.housing_status_at_entry, Exit.housing_status)
    ):
        flows[(_group(at_entry), _group(at_exit))] += int(count)
    groups = [*HOUSING_GROUPS.keys(), UNKNOWN]
    labels = {key: label for key, (label, _codes) in HOUSING_GROUPS.items()} | {UNKNOWN: UNKNOWN_LABEL}
    total = sum(flows.values())
    columns = (*(Column(g, labels[g]) for g in groups), Column("total", "Total"))
    flow_rows = []
    for entry in groups:
        cells = tuple(flows.get((entry, out), 0) for out in groups)
        if entry == UNKNOWN and not any(cells):
            continue
        flow_rows.append(Row(entry, f"À l'entrée : {labels[entry]}", (*cells, sum(cells))))
    column_totals = tuple(sum(flows.get((entry, out), 0) for entry in groups) for out in groups)
    flow_rows.append(Row("total", "Total à la sortie", (*column_totals, total), total=True))
    housed_entry = sum(n for (entry, _out), n in flows.items() if entry in HOUSED_GROUPS)
    housed_exit = sum(n for (_entry, out), n in flows.items() if out in HOUSED_GROUPS)
    share_columns = (Column("housed", "En logement"), Column("share", "Part des sorties", "share"))
    housing_share = Table(
        "housing_share",
        "Part des personnes en logement",
        share_columns,
        (
            Row("entry", "À l'entrée", (housed_entry, Ratio(housed_entry, total))),
            Row("exit", "À la sortie", (housed_exit, Ratio(housed_exit, total))),
        ),
    )

    # Health coverage and treating doctor, at entry and at exit; rights opened at exit.
    coverage_flows: dict[tuple[str, str], int] = defaultdict(int)
    better = rights = known = doctor_entry = doctor_exit = covered_entry = covered_exit = 0
    health_total = 0
    rights_opened = Context.flag(func.json_array_length(Exit.rights_opened) > literal_column("0"))
    for entry_cov, exit_cov, entry_doc, exit_doc, opened, count in ctx.rows(
        select(
            Participant.health_coverage_at_entry,
            Exit.health_coverage,
            HealthRecord.had_treating_doctor_first,
            Exit.has_treating_doctor,
            rights_opened,
            func.count(),
        )
        .join(Exit, Exit.participant_id == Participant.id)
        .outerjoin(HealthRecord, HealthRecord.participant_id == Participant.id)
        .where(ctx.paths(), in_period)
        .group_by(
            Participant.health_coverage_at_entry,
            Exit.health_coverage,
            HealthRecord.had_treating_doctor_first,
            Exit.has_treating_doctor,
            rights_opened,
        )
    ):
        count = int(count)
        health_total += count
        coverage_flows[(entry_cov or UNKNOWN, exit_cov or UNKNOWN)] += count
        entry_rank = COVERAGE_RANK.get(entry_cov or "", 0)
        exit_rank = COVERAGE_RANK.get(exit_cov) if exit_cov else None
        doctor_gained = bool(exit_doc) and not entry_doc
        if exit_cov is not None or exit_doc is not None:
            known += count
            if (exit_rank is not None and exit_rank > entry_rank) or doctor_gained:
                better += count
            if bool(opened) or (entry_rank == 0 and (exit_rank or 0) > 0):
                rights += count
        doctor_entry += count if entry_doc else 0
        doctor_exit += count if exit_doc else 0
        covered_entry += count if COVERAGE_RANK.get(entry_cov or "", 0) > 0 else 0
        covered_exit += count if exit_cov and COVERAGE_RANK.get(exit_cov, 0) > 0 else 0
    health = Table(
        "health",
        "Santé et droits : de l'entrée à la sortie",
        (Column("people", "Personnes"), Column("share", "Part", "share")),
        (
            Row("better_health_care", "Meilleure prise en charge santé", (better, Ratio(better, known))),
            Row("more_rights", "Accès à plus de droits", (rights, Ratio(rights, known))),
            Row(
                "health_known",
                "Sorties dont la santé à la sortie est renseignée",
                (known, Ratio(known, health_total)),
            ),
            Row(
                "covered_entry",
                "Couverture maladie à l'entrée",
                (covered_entry, Ratio(covered_entry, health_total)),
            ),
            Row(
                "covered_exit",
                "Couverture maladie à la sortie",
                (covered_exit, Ratio(covered_exit, health_total)),
            ),
            Row(
                "doctor_entry",
                "Médecin traitant à l'entrée",
                (doctor_entry, Ratio(doctor_entry, health_total)),
            ),
            Row(
                "doctor_exit", "Médecin traitant à la sortie", (doctor_exit, Ratio(doctor_exit, health_total))
            ),
        ),
    )
    coverage_labels = reference.labels(session, "health_coverage") | {UNKNOWN: UNKNOWN_LABEL}
    present = [code for code in coverage_labels if any(code in pair for pair in coverage_flows)]
    coverage_rows = []
    for entry in present:
        cells = tuple(coverage_flows.get((entry, out), 0) for out in present)
        if any(cells):
            coverage_rows.append(Row(entry, f"À l'entrée : {coverage_labels[entry]}", (*cells, sum(cells))))
    coverage = Table(
        "coverage_flows",
        "Couverture maladie : de l'entrée à la sortie",
        (*(Column(code, coverage_labels[code]) for code in present), Column("total", "Total")),
        tuple(coverage_rows),
        chart="flow",
    )
    return [
        Table("housing_flows", "Logement : de l'entrée à la sortie", columns, tuple(flow_rows), chart="flow"),
        housing_share,
        health,
        coverage,
    ]
