"""What makes an opportunity valid, as plain functions of plain values (DESIGN §4).

Pure: no session, no Flask, no ORM query. The service (`referral.partners.opportunities`) gathers
what the rules need from the database, the reference codes an opportunity may name
(`KnownCodes`), and raises the French messages these functions return, before anything is
written. Seeding and the CP's form go through the same rules, so a seeded opportunity and a typed
one obey the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from referral.matching.registry import validate_criterion
from referral.partners.values import clean_tags, clean_text

# French names of an opportunity's fields, for the history and the meeting agenda.
OPPORTUNITY_FIELD_LABELS: dict[str, str] = {
    "title": "titre",
    "domain": "domaine",
    "subtypes": "sous-thèmes",
    "description": "description",
    "capacity": "nombre de places",
    "answer_delay_days": "délai de réponse",
    "requires_cp_validation": "validation par le ou la CP",
    "valid_from": "début de validité",
    "valid_until": "fin de validité",
    "criteria": "critères d'orientation",
    "procedure": "procédure",
    "documents_required": "pièces demandées",
    "shared_categories": "données transmises",
    "tags": "mots-clés",
}
# The editable content of an opportunity, in the order of its snapshot.
OPPORTUNITY_FIELDS = tuple(OPPORTUNITY_FIELD_LABELS)

BLANK_OPPORTUNITY: dict[str, Any] = {
    "title": None,
    "domain": None,
    "subtypes": [],
    "description": None,
    "capacity": 1,
    "answer_delay_days": 30,
    "requires_cp_validation": True,
    "valid_from": None,
    "valid_until": None,
    "criteria": [],
    "procedure": None,
    "documents_required": [],
    "shared_categories": [],
    "tags": [],
}

TITLE_MAX_LENGTH = 200
ANSWER_DELAY_DAYS = (1, 365)
CRITERION_WEIGHT = (0, 10)


@dataclass(frozen=True)
class KnownCodes:
    """The codes an opportunity may name, read from the reference data by the service."""

    domains: frozenset[str]
    # Subtype code → the domain it belongs to.
    subtypes: Mapping[str, str]
    # The data categories a referral may share (« situation », « ressources », « santé »).
    categories: frozenset[str]
    # Per reference list, the codes a criterion may name (for `validate_criterion`).
    criteria: dict[str, frozenset[str]]
    # Domain and sub-theme code → French label, so a refusal names them in words.
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


def iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def criterion_state(item: Mapping[str, Any]) -> dict[str, Any]:
    """A criterion as stored in a snapshot: `hard` and `weight` made explicit."""
    return {
        "field": item["field"],
        "op": item["op"],
        "value": item["value"],
        "hard": bool(item.get("hard", True)),
        "weight": float(item.get("weight", 1.0)),
    }


def coded_errors(
    *,
    domain: str,
    subtypes: Iterable[str],
    shared_categories: Iterable[str],
    criteria: Sequence[Mapping[str, Any]],
    known: KnownCodes,
) -> dict[str, list[str]]:
    """French messages per field for an opportunity's coded values (empty when all are known)."""
    errors: dict[str, list[str]] = {}
    if domain not in known.domains:
        errors["domain"] = [f"« {domain} » n'est pas un domaine connu."]
    subtype_codes = set(subtypes)
    bad_subtypes = sorted(subtype_codes - set(known.subtypes))
    bad_subtypes += [
        code for code in sorted(subtype_codes & set(known.subtypes)) if known.subtypes[code] != domain
    ]
    if bad_subtypes:
        errors["subtypes"] = [
            f"« {known.label(code)} » n'est pas un sous-thème du domaine « {known.label(domain)} »."
            for code in bad_subtypes
        ]
    categories = list(dict.fromkeys(shared_categories))
    bad_categories = [code for code in categories if code not in known.categories]
    if bad_categories:
        errors["shared_categories"] = [
            f"Catégorie de données inconnue : « {code} »." for code in bad_categories
        ]
    for index, item in enumerate(criteria):
        problems = validate_criterion(
            item.get("field", ""), item.get("op", ""), item.get("value"), known.criteria
        )
        if problems:
            errors[f"criteria.{index}"] = problems
    return errors


def next_opportunity_state(
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    places_taken: int,
    known: KnownCodes,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The opportunity as it would be after `values`, and what is wrong with it as a whole
    (dates, places, codes), in French per field: empty when it may be written.

    `current` is the opportunity's snapshot (None for a new one), `places_taken` its places
    already held by referrals.
    """
    state = dict(current) if current is not None else dict(BLANK_OPPORTUNITY)
    for name in OPPORTUNITY_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in ("valid_from", "valid_until"):
            value = iso(value)
        elif name in ("title", "description", "procedure"):
            value = clean_text(values, name)
        elif name in ("documents_required", "tags"):
            value = clean_tags(value)
        elif name in ("subtypes", "shared_categories"):
            value = list(dict.fromkeys(value or []))
        elif name == "criteria":
            value = [dict(item) for item in value or []]
        state[name] = value

    errors: dict[str, list[str]] = {}
    if not state["title"]:
        errors["title"] = ["Le titre de l'opportunité est obligatoire."]
    elif len(state["title"]) > TITLE_MAX_LENGTH:
        errors["title"] = ["Au plus 200 caractères."]
    if not state["domain"]:
        errors["domain"] = ["Choisissez le domaine de l'opportunité."]
    capacity = state["capacity"]
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        errors["capacity"] = ["Le nombre de places est un entier positif ou nul."]
    elif capacity < places_taken:
        errors["capacity"] = [
            f"{places_taken} place(s) sont déjà prises : la capacité ne peut pas descendre en dessous."
        ]
    delay = state["answer_delay_days"]
    shortest, longest = ANSWER_DELAY_DAYS
    if not isinstance(delay, int) or isinstance(delay, bool) or not shortest <= delay <= longest:
        errors["answer_delay_days"] = ["Le délai de réponse est compris entre 1 et 365 jours."]
    if state["valid_from"] and state["valid_until"] and state["valid_until"] < state["valid_from"]:
        errors["valid_until"] = ["La fin de validité ne peut pas précéder son début."]
    lightest, heaviest = CRITERION_WEIGHT
    for index, item in enumerate(state["criteria"]):
        if not isinstance(item, Mapping) or "field" not in item or "op" not in item or "value" not in item:
            errors[f"criteria.{index}"] = ["Un critère a un champ, un opérateur et une valeur."]
            continue
        weight = item.get("weight", 1.0)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not lightest <= weight <= heaviest
        ):
            errors[f"criteria.{index}.weight"] = ["Le poids est compris entre 0 et 10."]
    if state["domain"]:
        # Criteria messages are numbered over the well-formed ones: map them back.
        positions = [index for index, _ in enumerate(state["criteria"]) if f"criteria.{index}" not in errors]
        coded = coded_errors(
            domain=state["domain"],
            subtypes=state["subtypes"],
            shared_categories=state["shared_categories"],
            criteria=[state["criteria"][index] for index in positions],
            known=known,
        )
        for key, messages in coded.items():
            if key.startswith("criteria."):
                errors[f"criteria.{positions[int(key.split('.')[1])]}"] = messages
            else:
                errors[key] = messages
    if not errors:
        state["criteria"] = [criterion_state(item) for item in state["criteria"]]
    return state, errors
