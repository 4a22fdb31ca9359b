"""The « nothing answers this need » sentence (« manque »): when no eligible opportunity answers an
open need, one French sentence says so and what is missing — the near misses and their most
frequent causes, or that the territory offers nothing (or only another subtype) for that need.

It is what the CIP reads under the need, and what feeds the coordinator's gap figures.

Pure module: no Flask, no session.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from referral.matching import explain
from referral.matching.registry import FIELDS
from referral.matching.snapshot import OpenNeed

if TYPE_CHECKING:
    from referral.matching.index import DayStatics, TerritoryIndex
    from referral.matching.proposals import Proposal

# Cause codes beyond the criteria fields.
MISSING_INFORMATION = "missing_information"
NO_PLACE = "no_place"
NOT_OPEN_YET = "not_open_yet"

# How a cause is said after « bloquées par »; a field not listed is said by its registry label.
CAUSE_WORDS: dict[str, str] = {
    "programme": "le programme",
    "monthly_resources": "les ressources minimales",
    "months_in_programme": "l'ancienneté dans le programme",
    "residence_status": "le titre de séjour",
    "housing_status": "la situation de logement",
    "health_coverage": "la couverture maladie",
    "language_level": "le niveau de français",
    "age": "l'âge",
    "weekly_hours": "le nombre d'heures de travail",
    "household_size": "la composition du foyer",
    "children": "le nombre d'enfants",
    "driving_licence": "le permis de conduire",
    "territory": "le territoire",
    "rqth": "la RQTH",
    "has_need": "un autre frein attendu",
    MISSING_INFORMATION: "des informations manquantes",
    NO_PLACE: "l'absence de place",
    NOT_OPEN_YET: "une ouverture à venir",
}
# Causes named in the sentence, most frequent first.
MAX_CAUSES = 2


@dataclass(frozen=True, slots=True)
class Gap:
    """Nothing eligible answers `need`: the sentence, the near misses counted and the causes (codes)."""

    need: OpenNeed
    sentence: str
    near_misses: int
    causes: tuple[str, ...]
    offered: int  # opportunities of the territory open today that answer the need, eligible or not

    def to_dict(self) -> dict[str, Any]:
        return {
            "need": {
                "id": self.need.id,
                "domain": self.need.domain,
                "subtype": self.need.subtype,
                "priority": self.need.priority,
            },
            "sentence": self.sentence,
            "near_misses": self.near_misses,
            "causes": list(self.causes),
        }


def _with_de(label: str) -> str:
    """« de logement », « d'hébergement »: the preposition before a lower-cased need label."""
    lowered = label[:1].lower() + label[1:]
    return f"d'{lowered}" if lowered[:1] in "aeiouyhéèêàâîôû" else f"de {lowered}"


def _programme_detail(values: set[Any], index: TerritoryIndex) -> str:
    labels = sorted(index.reference.label("programme", value).split(" (")[0] for value in values)
    return f" ({' ou '.join(labels)} seulement)" if labels else ""


def _causes(near: list[Proposal], index: TerritoryIndex) -> tuple[list[str], dict[str, set[Any]]]:
    """The causes of the near misses, most frequent first (ties by code), and the programmes asked."""
    counts: Counter[str] = Counter()
    programmes: dict[str, set[Any]] = {"programme": set()}
    for proposal in near:
        seen: set[str] = set()
        position = int(np.searchsorted(index.ids, proposal.opportunity_id))
        compiled = index.compiled[position]
        for criterion, outcome in zip(compiled, proposal.criteria, strict=True):
            if not criterion.hard or outcome.met:
                continue
            cause = MISSING_INFORMATION if outcome.met is None else criterion.field
            seen.add(cause)
            if cause == "programme":
                value = criterion.source.value
                programmes["programme"].update(value if isinstance(value, tuple) else (value,))
        for text in proposal.blocking:
            if text.startswith("Plus aucune place"):
                seen.add(NO_PLACE)
            elif text.startswith("Offre ouverte à partir"):
                seen.add(NOT_OPEN_YET)
        counts.update(seen)
    ordered = sorted(counts, key=lambda cause: (-counts[cause], cause))
    return ordered, programmes


def cause_words(cause: str) -> str:
    words = CAUSE_WORDS.get(cause)
    if words is None:
        spec = FIELDS.get(cause)
        words = f"« {spec.label.lower()} »" if spec is not None else cause
    return words


def gap_for(need: OpenNeed, index: TerritoryIndex, statics: DayStatics, near: list[Proposal]) -> Gap:
    """The gap sentence of a need no eligible opportunity answers (see the module docstring)."""
    label = explain.need_label(need, index.reference)
    head = f"Aucune opportunité {_with_de(label)} ouverte à cette personne sur le territoire"
    kinds = index.answer_kinds(need.domain, need.subtype)
    open_today = statics.blockers < (1 << 20)
    offered = int(np.count_nonzero((kinds >= 0) & open_today))
    if near:
        ordered, programmes = _causes(near, index)
        named = []
        for cause in ordered[:MAX_CAUSES]:
            words = cause_words(cause)
            if cause == "programme":
                words += _programme_detail(programmes["programme"], index)
            named.append(words)
        count = len(near)
        almost = "presque éligible" if count == 1 else "presque éligibles"
        blocked = "bloquée" if count == 1 else "bloquées"
        tail = f" : {count} {almost}"
        if named:
            tail += f", {blocked} par {' et '.join(named)}"
        return Gap(need, head + tail + ".", count, tuple(ordered[:MAX_CAUSES]), offered)
    if offered:
        tail = (
            f" : {offered} {'offre existe' if offered == 1 else 'offres existent'}, "
            "mais trop de conditions ne sont pas remplies."
        )
    else:
        domain_kinds = index.answer_kinds(need.domain, None)
        same_domain = int(np.count_nonzero((domain_kinds >= 0) & open_today))
        if need.subtype is not None and same_domain:
            domain = index.reference.label("need", need.domain)
            tail = f" : seules des offres d'un autre type ({domain}) existent."
        else:
            tail = " : aucun partenaire ne propose cela aujourd'hui."
    return Gap(need, head + tail, 0, (), offered)
