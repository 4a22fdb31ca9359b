"""The fixed vocabulary of orientation criteria (DESIGN §6 and §9).

A criterion is data, never code: ``{field, op, value, hard, weight}``. `field` names an attribute
of the participant from this registry, `op` one of the operators below. The database refuses any
other field or operator (CHECK constraints built from these tuples), and the matching engine
reads its French labels from here.

Pure module: no Flask, no session.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ValueKind(enum.StrEnum):
    """What sort of value a field holds, which decides the operators that make sense for it."""

    NUMBER = "number"
    CODE = "code"
    BOOLEAN = "boolean"
    NEED = "need"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    code: str
    label: str
    kind: ValueKind
    # The reference list whose codes the value must come from, for CODE fields.
    reference_list: str | None = None
    # For codes with an order (language levels), comparisons use the list's `rank`.
    ordered: bool = False
    unit: str = ""


FIELDS: dict[str, FieldSpec] = {
    spec.code: spec
    for spec in (
        FieldSpec("territory", "Territoire", ValueKind.CODE, "territory"),
        FieldSpec("programme", "Programme", ValueKind.CODE, "programme"),
        FieldSpec("months_in_programme", "Ancienneté dans le programme", ValueKind.NUMBER, unit="mois"),
        FieldSpec("weekly_hours", "Heures hebdomadaires", ValueKind.NUMBER, unit="h"),
        FieldSpec("age", "Âge", ValueKind.NUMBER, unit="ans"),
        FieldSpec("residence_status", "Situation administrative", ValueKind.CODE, "residence_status"),
        FieldSpec("housing_status", "Situation de logement", ValueKind.CODE, "housing_status"),
        FieldSpec("health_coverage", "Couverture santé", ValueKind.CODE, "health_coverage"),
        FieldSpec("household_size", "Taille du foyer", ValueKind.NUMBER, unit="personnes"),
        FieldSpec("children", "Enfants à charge", ValueKind.NUMBER),
        FieldSpec("monthly_resources", "Ressources mensuelles", ValueKind.NUMBER, unit="€"),
        FieldSpec("language_level", "Niveau de français", ValueKind.CODE, "language_level", ordered=True),
        FieldSpec("driving_licence", "Permis de conduire", ValueKind.BOOLEAN),
        FieldSpec("rqth", "Reconnaissance de travailleur handicapé (RQTH)", ValueKind.BOOLEAN),
        FieldSpec("has_need", "Frein ouvert", ValueKind.NEED),
    )
}


OPERATORS: dict[str, str] = {
    "eq": "égal à",
    "in": "parmi",
    "not_in": "hors de",
    "gte": "au moins",
    "lte": "au plus",
    "between": "entre",
    "has": "a",
}

# Which operators make sense for which kind of field.
OPERATORS_BY_KIND: dict[ValueKind, frozenset[str]] = {
    ValueKind.NUMBER: frozenset({"eq", "gte", "lte", "between", "in", "not_in"}),
    ValueKind.CODE: frozenset({"eq", "in", "not_in"}),
    ValueKind.BOOLEAN: frozenset({"eq"}),
    ValueKind.NEED: frozenset({"has"}),
}

FIELD_CODES: tuple[str, ...] = tuple(FIELDS)
OPERATOR_CODES: tuple[str, ...] = tuple(OPERATORS)


def operators_for(field: str) -> frozenset[str]:
    """The operators allowed on `field` (ordered codes also accept gte/lte/between)."""
    spec = FIELDS[field]
    allowed = OPERATORS_BY_KIND[spec.kind]
    if spec.ordered:
        allowed = allowed | {"gte", "lte", "between"}
    return allowed
