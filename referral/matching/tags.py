"""Free text against opportunities: a CIP's « sans CV », « hébergement », « permis » (DESIGN §6).

Titles, tags and partner names are typed by people, with or without accents, capitals or the
exact words; comparing them with `==` would miss « Hebergement d'urgence » for « hébergement ».
So both sides are folded (accents removed, lower case, punctuation as spaces) and compared with
rapidfuzz's partial ratio: a short query found inside a longer text, with a typo or two, matches.

Pure module: no Flask, no session.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

from referral.matching.snapshot import OpportunitySnapshot

# Below this a query is too short for fuzzy matching to mean anything (« cv » is in everything).
MIN_FUZZY_LENGTH = 3
DEFAULT_THRESHOLD = 85.0

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """« Hébergement d'Urgence » → « hebergement d urgence »: no accents, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", bare).strip()


def opportunity_texts(opportunity: OpportunitySnapshot) -> tuple[str, ...]:
    """The folded texts a query is compared with: title, partner name, each tag."""
    return tuple(
        fold(text) for text in (opportunity.title, opportunity.partner_name, *opportunity.tags) if text
    )


def similarity(query: str, texts: Iterable[str]) -> float:
    """How well the (already folded) query matches the best of `texts`, 0–100."""
    if not query:
        return 0.0
    if len(query) < MIN_FUZZY_LENGTH:
        return 100.0 if any(query in text.split() for text in texts) else 0.0
    return max((fuzz.partial_ratio(query, text) for text in texts), default=0.0)


def matches(query: str, opportunity: OpportunitySnapshot, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return similarity(fold(query), opportunity_texts(opportunity)) >= threshold
