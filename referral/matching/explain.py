"""French sentences for social workers: why a criterion holds or not, what each factor means.

Built only for what is shown (the proposals returned, never the whole territory), because words
cost far more than the arithmetic that ranks. The wording comes from the registry's templates
(`registry.explanation_for`); this module formats values (« 6 mois », « 1 500 € », labels of
codes) and fills them in.

Pure module: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from referral.matching.criteria import CompiledCriterion, ParticipantFacts
from referral.matching.registry import FIELDS, ValueKind, explanation_for
from referral.matching.scoring import (
    FRESHNESS_DAYS,
    QUALITY_OTHER_SUBTYPE,
    need_quality,
    pressure,
)
from referral.matching.snapshot import OpenNeed, OpportunitySnapshot, ReferenceTables


def french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def french_number(number: float) -> str:
    """« 1 500 », « 20,5 »: a space between thousands, a comma before decimals."""
    if float(number).is_integer():
        return f"{int(number):,}".replace(",", " ")
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",")


def plural(count: float, singular: str, plural_form: str) -> str:
    """French plural: 0 and 1 take the singular (« 0 enfant », « 1 place », « 2 places »)."""
    return singular if abs(count) < 2 else plural_form


def with_unit(field: str, number: float) -> str:
    spec = FIELDS[field]
    template, _ = explanation_for(field, "eq")
    forms = template.unit_forms
    if forms is not None:
        return f"{french_number(number)} {plural(number, *forms)}"
    if spec.unit:
        return f"{french_number(number)} {spec.unit}"
    return french_number(number)


def _code_label(field: str, code: Any, reference: ReferenceTables) -> str:
    spec = FIELDS[field]
    if spec.kind is ValueKind.NEED:
        return reference.label("need", code)
    return reference.label(spec.reference_list or field, code)


def format_value(field: str, value: Any, reference: ReferenceTables) -> str:
    """One criterion value as a social worker reads it."""
    kind = FIELDS[field].kind
    if kind is ValueKind.NUMBER:
        return with_unit(field, value)
    if kind is ValueKind.BOOLEAN:
        return "oui" if value else "non"
    if FIELDS[field].ordered:
        return _code_label(field, value, reference)
    return f"« {_code_label(field, value, reference)} »"


def _summary(criterion: CompiledCriterion, reference: ReferenceTables) -> str | None:
    """A shorter sentence for sets that mean one thing (« titre de séjour valide ou équivalent »)."""
    if criterion.op != "in":
        return None
    wanted = set(criterion.value)
    if criterion.field == "residence_status" and wanted == _codes_where(reference.may_work):
        return "Titre de séjour valide ou équivalent requis"
    if criterion.field == "health_coverage" and wanted == _codes_where(reference.covered):
        return "Couverture maladie ouverte requise"
    return None


def _codes_where(flags: Mapping[str, bool]) -> set[str] | None:
    return {code for code, ok in flags.items() if ok} or None


def requirement(criterion: CompiledCriterion, reference: ReferenceTables) -> str:
    """What the opportunity asks, e.g. « 6 mois d'ancienneté requis », « Ressources mensuelles au
    plus 900 € »."""
    summary = _summary(criterion, reference)
    if summary is not None:
        return summary
    field, op = criterion.field, criterion.op
    raw = criterion.source.value
    _, sentence = explanation_for(field, op, raw)
    spec = FIELDS[field]
    items = list(raw) if isinstance(raw, tuple) else [raw]
    formatted = [format_value(field, item, reference) for item in items]
    separator = " ; " if spec.ordered else ", "
    return sentence.format(
        label=spec.label,
        value=formatted[0],
        low=formatted[0],
        high=formatted[-1],
        values=separator.join(formatted),
    )


def actual(field: str, facts: ParticipantFacts, reference: ReferenceTables) -> str:
    """The participant's situation for `field`, as a social worker reads it."""
    participant = facts.participant
    if field == "language_level":
        return reference.label("language_level", participant.language_level)
    if field == "has_need":
        codes = sorted(facts.need_codes)
        return " ; ".join(reference.label("need", code) for code in codes) or "aucun frein ouvert"
    value = facts.values[field]
    if FIELDS[field].kind is ValueKind.CODE:
        # The person's own situation reads without quotes: « situation actuelle : À la rue ».
        return _code_label(field, value, reference)
    return format_value(field, value, reference)


class Wording(NamedTuple):
    """A criterion's sentences with the opportunity's part already filled in; only the person's value
    is left to format (``{actual}``). Cached per opportunity by the index: the same criterion is
    explained to many people."""

    met: str
    unmet: str
    missing: str


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def wording(criterion: CompiledCriterion, reference: ReferenceTables) -> Wording:
    template, _ = explanation_for(criterion.field, criterion.op, criterion.source.value)
    spec = FIELDS[criterion.field]
    asked = requirement(criterion, reference)
    missing = spec.label[:1].lower() + spec.label[1:]
    return Wording(
        met=template.met.replace("{requirement}", _escaped(asked)),
        unmet=template.unmet.replace("{requirement}", _escaped(asked)),
        missing=template.missing.format(requirement=asked, missing=missing),
    )


def criterion_sentence(
    criterion: CompiledCriterion, facts: ParticipantFacts, outcome: bool | None, reference: ReferenceTables
) -> str:
    """The sentence for one criterion and one person.

    « 6 mois d'ancienneté requis, 4 mois aujourd'hui », « Ressources mensuelles au plus 900 € :
    610 € ✓ », « … (information manquante : niveau de français) ».
    """
    words = wording(criterion, reference)
    if outcome is None:
        return words.missing
    return (words.met if outcome else words.unmet).format(actual=actual(criterion.field, facts, reference))


# -- the factors, in words -------------------------------------------------------------------


def need_label(need: OpenNeed, reference: ReferenceTables) -> str:
    """The need's French label: its subtype's when it names one, else its domain's."""
    return reference.label("need", need.subtype or need.domain)


_need_label = need_label


def need_reason(need: OpenNeed | None, opportunity: OpportunitySnapshot, reference: ReferenceTables) -> str:
    if need is None:
        return "Ne répond à aucun frein ouvert de la personne"
    quality = need_quality(need, opportunity.domain, opportunity.subtypes)
    label = _need_label(need, reference)
    if quality > QUALITY_OTHER_SUBTYPE:
        return f"Répond au frein « {label} » (priorité {need.priority})"
    return f"Même domaine que le frein « {label} » (priorité {need.priority}), sans viser ce besoin précis"


def urgency_reason(kind: int | None, facts: ParticipantFacts, reference: ReferenceTables) -> str | None:
    participant = facts.participant
    if kind == 0:
        housing = reference.label("housing_status", participant.housing_status)
        return f"Urgence logement : {housing}"
    if kind == 1:
        return "Urgence : aucune couverture maladie"
    if kind == 2:
        expires = participant.residence_permit_expires_on
        if expires is None:
            return "Urgence : pas de titre de séjour autorisant à travailler"
        if expires <= facts.today:
            return f"Urgence : titre de séjour expiré depuis le {french_date(expires)}"
        return f"Urgence : titre de séjour à renouveler avant le {french_date(expires)}"
    return None


def soft_counts_reason(met: int, count: int) -> str | None:
    if not count:
        return None
    return f"Critères souhaités remplis : {met} sur {count}"


def capacity_reason(opportunity: OpportunitySnapshot) -> str:
    left, capacity = opportunity.places_left, opportunity.capacity
    if left <= 0:
        return "Complet : orientation en liste d'attente" if opportunity.waitlist else "Complet"
    return f"{left} {plural(left, 'place libre', 'places libres')} sur {capacity}"


def answer_reason(opportunity: OpportunitySnapshot) -> str:
    rate = opportunity.partner_answer_rate
    if rate is None:
        return "Réactivité du partenaire encore inconnue (sans effet sur le classement)"
    return f"Le partenaire a répondu à {round(rate * 100)} % des orientations"


def freshness_reason(opportunity: OpportunitySnapshot, today: date) -> str | None:
    if opportunity.published_on is None:
        return None
    days = (today - opportunity.published_on).days
    if days <= 0:
        return "Offre publiée aujourd'hui"
    if days > FRESHNESS_DAYS:
        return "Offre publiée il y a plus de six mois"
    return f"Offre publiée il y a {days} {plural(days, 'jour', 'jours')}"


def fair_share_reason(opportunity: OpportunitySnapshot) -> str:
    recent = opportunity.recent_referrals
    if recent == 0:
        return "Aucune orientation récente vers cette offre"
    referrals = f"{recent} {plural(recent, 'orientation récente', 'orientations récentes')}"
    left = opportunity.places_left
    if left <= 0:
        text = f"{referrals} alors que l'offre est complète"
    else:
        text = f"{referrals} pour {left} {plural(left, 'place libre', 'places libres')}"
    if pressure(opportunity) >= 2:
        return f"Offre très sollicitée : {text}"
    return text


def refused_reason(refused_on: date) -> str:
    return f"Refusé·e par ce partenaire le {french_date(refused_on)}"
