"""The fixed vocabulary of orientation criteria (DESIGN §6 and §9).

A criterion is data, never code: ``{field, op, value, hard, weight}``. `field` names an attribute
of the participant from this registry, `op` one of the operators below. The database refuses any
other field or operator (CHECK constraints built from these tuples), and the matching engine
reads its French labels and explanation templates from here (`explanation_for`), so that adding
a field means adding one line here, not a branch in the engine.

Pure module: no Flask, no session.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class ValueKind(enum.StrEnum):
    """What sort of value a field holds, which decides the operators that make sense for it."""

    NUMBER = "number"
    CODE = "code"
    BOOLEAN = "boolean"
    NEED = "need"


@dataclass(frozen=True, slots=True)
class ExplanationTemplate:
    """How a criterion on one field is said in French to a social worker.

    `requirement` maps an operator (or ``op:true`` / ``op:false`` for a yes/no value) to what the
    opportunity asks, e.g. ``"{value} d'ancienneté requis"``; `met`, `unmet` and `missing` wrap it with
    the participant's situation. Placeholders: ``{label}``, ``{value}``, ``{low}``, ``{high}``,
    ``{values}`` (the criterion's value, formatted), ``{requirement}``, ``{actual}`` (the
    participant's value, formatted) and ``{missing}`` (the field's label in lower case).
    `unit_forms` gives the singular and plural of the unit (« 1 an », « 2 ans »).
    """

    requirement: Mapping[str, str] = field(default_factory=dict)
    met: str = "{requirement} : {actual} ✓"
    unmet: str = "{requirement} (situation actuelle : {actual})"
    missing: str = "{requirement} (information manquante : {missing})"
    unit_forms: tuple[str, str] | None = None


def _template(requirement: Mapping[str, str], **rest: object) -> ExplanationTemplate:
    return ExplanationTemplate(requirement=MappingProxyType(dict(requirement)), **rest)  # type: ignore[arg-type]


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
    # Field-specific wording; None means the default wording of the field's kind.
    explanation: ExplanationTemplate | None = None


FIELDS: dict[str, FieldSpec] = {
    spec.code: spec
    for spec in (
        FieldSpec("territory", "Territoire", ValueKind.CODE, "territory"),
        FieldSpec(
            "programme",
            "Programme",
            ValueKind.CODE,
            "programme",
            explanation=_template(
                {
                    "eq": "Programme {value} requis",
                    "in": "Programme parmi {values}",
                    "not_in": "Programme autre que {values}",
                }
            ),
        ),
        FieldSpec(
            "months_in_programme",
            "Ancienneté dans le programme",
            ValueKind.NUMBER,
            unit="mois",
            explanation=_template(
                {
                    "eq": "Exactement {value} d'ancienneté requis",
                    "gte": "{value} d'ancienneté requis",
                    "lte": "Au plus {value} d'ancienneté",
                    "between": "Entre {low} et {high} d'ancienneté",
                    "in": "Ancienneté parmi {values}",
                    "not_in": "Ancienneté hors {values}",
                },
                unmet="{requirement}, {actual} aujourd'hui",
                unit_forms=("mois", "mois"),
            ),
        ),
        FieldSpec("weekly_hours", "Heures hebdomadaires", ValueKind.NUMBER, unit="h"),
        FieldSpec(
            "age",
            "Âge",
            ValueKind.NUMBER,
            unit="ans",
            explanation=_template(
                {
                    "eq": "Avoir {value}",
                    "gte": "Avoir au moins {value}",
                    "lte": "Avoir au plus {value}",
                    "between": "Avoir entre {low} et {high}",
                    "in": "Âge parmi {values}",
                    "not_in": "Âge hors {values}",
                },
                unmet="{requirement} ({actual} aujourd'hui)",
                unit_forms=("an", "ans"),
            ),
        ),
        FieldSpec("residence_status", "Situation administrative", ValueKind.CODE, "residence_status"),
        FieldSpec("housing_status", "Situation de logement", ValueKind.CODE, "housing_status"),
        FieldSpec("health_coverage", "Couverture santé", ValueKind.CODE, "health_coverage"),
        FieldSpec(
            "household_size",
            "Taille du foyer",
            ValueKind.NUMBER,
            unit="personnes",
            explanation=_template({}, unit_forms=("personne", "personnes")),
        ),
        FieldSpec(
            "children",
            "Enfants à charge",
            ValueKind.NUMBER,
            explanation=_template({}, unit_forms=("enfant", "enfants")),
        ),
        FieldSpec("monthly_resources", "Ressources mensuelles", ValueKind.NUMBER, unit="€"),
        FieldSpec("language_level", "Niveau de français", ValueKind.CODE, "language_level", ordered=True),
        FieldSpec(
            "driving_licence",
            "Permis de conduire",
            ValueKind.BOOLEAN,
            explanation=_template(
                {"eq:true": "Permis de conduire requis", "eq:false": "Sans permis de conduire"}
            ),
        ),
        FieldSpec(
            "rqth",
            "Reconnaissance de travailleur handicapé (RQTH)",
            ValueKind.BOOLEAN,
            explanation=_template({"eq:true": "RQTH requise", "eq:false": "Sans RQTH"}),
        ),
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

# The default wording of each kind of field, used when a field has no wording of its own.
DEFAULT_EXPLANATIONS: dict[ValueKind, ExplanationTemplate] = {
    ValueKind.NUMBER: _template(
        {
            "eq": "{label} : {value}",
            "gte": "{label} au moins {value}",
            "lte": "{label} au plus {value}",
            "between": "{label} entre {low} et {high}",
            "in": "{label} parmi {values}",
            "not_in": "{label} hors {values}",
        }
    ),
    ValueKind.CODE: _template(
        {
            "eq": "{label} {value}",
            "in": "{label} parmi {values}",
            "not_in": "{label} autre que {values}",
            "gte": "{label} au moins {value}",
            "lte": "{label} au plus {value}",
            "between": "{label} entre {low} et {high}",
        }
    ),
    ValueKind.BOOLEAN: _template({"eq": "{label} : {value}"}),
    ValueKind.NEED: _template(
        {"has": "Frein ouvert : {value}"},
        met="{requirement} ✓",
        unmet="{requirement} (aucun frein ouvert de ce type)",
    ),
}


def explanation_for(field: str, op: str, value: object = None) -> tuple[ExplanationTemplate, str]:
    """The wording of a criterion: the field's template and its requirement sentence for `op`.

    A field's own sentence wins over its kind's default; ``op:true``/``op:false`` wins over `op`
    for yes/no values, because « Permis de conduire requis » and « Sans permis de conduire » are
    not the same sentence with another word.
    """
    spec = FIELDS[field]
    default = DEFAULT_EXPLANATIONS[spec.kind]
    own = spec.explanation or default
    keys = [f"{op}:{str(value).lower()}"] if isinstance(value, bool) else []
    keys.append(op)
    for template in (own, default):
        for key in keys:
            if key in template.requirement:
                return own, template.requirement[key]
    return own, "{label} " + OPERATORS[op] + " {value}"


FIELD_CODES: tuple[str, ...] = tuple(FIELDS)
OPERATOR_CODES: tuple[str, ...] = tuple(OPERATORS)


def operators_for(field: str) -> frozenset[str]:
    """The operators allowed on `field` (ordered codes also accept gte/lte/between)."""
    spec = FIELDS[field]
    allowed = OPERATORS_BY_KIND[spec.kind]
    if spec.ordered:
        allowed = allowed | {"gte", "lte", "between"}
    return allowed


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_criterion(
    field: str, op: str, value: object, known_codes: dict[str, frozenset[str]]
) -> list[str]:
    """French reasons why ``{field, op, value}`` is not a valid criterion (empty when valid).

    `known_codes` maps a reference list name (``residence_status``, ``territory``, ``need``…) to
    its codes, so a criterion can only name codes that exist.
    """
    spec = FIELDS.get(field)
    if spec is None:
        return [f"Champ de critère inconnu : « {field} »."]
    if op not in OPERATORS:
        return [f"Opérateur inconnu : « {op} »."]
    if op not in operators_for(field):
        return [f"L'opérateur « {OPERATORS[op]} » ne s'applique pas au champ « {spec.label} »."]

    if op == "between":
        if not (isinstance(value, list) and len(value) == 2):
            return [f"« {spec.label} » entre deux valeurs : donnez une liste [minimum, maximum]."]
        items = list(value)
    elif op in ("in", "not_in"):
        if not (isinstance(value, list) and value):
            return [f"« {spec.label} » {OPERATORS[op]} : donnez une liste non vide de valeurs."]
        items = list(value)
    else:
        items = [value]

    problems: list[str] = []
    if spec.kind is ValueKind.NUMBER:
        if not all(_is_number(item) for item in items):
            problems.append(f"« {spec.label} » attend un nombre.")
        elif any(item < 0 for item in items):
            problems.append(f"« {spec.label} » ne peut pas être négatif.")
    elif spec.kind is ValueKind.BOOLEAN:
        if not all(isinstance(item, bool) for item in items):
            problems.append(f"« {spec.label} » attend oui (true) ou non (false).")
    else:
        list_name = "need" if spec.kind is ValueKind.NEED else (spec.reference_list or field)
        known = known_codes.get(list_name, frozenset())
        unknown = [item for item in items if not isinstance(item, str) or item not in known]
        if unknown:
            shown = ", ".join(f"« {item} »" for item in unknown)
            problems.append(f"« {spec.label} » : valeur(s) inconnue(s) {shown}.")
    numeric_range = op == "between" and spec.kind is ValueKind.NUMBER
    if not problems and numeric_range and items[0] > items[1]:
        problems.append(f"« {spec.label} » : le minimum dépasse le maximum.")
    return problems
