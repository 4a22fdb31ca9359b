"""Pure engine: fuzzy search of partners, opportunities and people, and duplicate detection.

No Flask, no session (DESIGN §5; a test checks it). The partners' services build one `SearchIndex`
per kind of record (partners, opportunities) from plain `SearchRecord`s and keep it fresh with
`add`/`update`/`remove` when a partner or an opportunity changes; the web layer turns `SearchHit`s
into `[{id, name, town, score}]`. The record's services look for a person already followed with
`person_duplicates`.

The rooms:

- `text`: folding and words. Everything is compared on `fold`ed text: social workers type without
  accents, in lower case, with or without the apostrophes and hyphens of « Centre d’hébergement
  Saint-Jean ». Grammatical words (« de », « la », « l’ »…) are not indexed, while « association »
  is, as a common hence light word: `referral bench search` measures both lists and this choice
  ranks best.
- `records`: what is searched (`SearchRecord`) and what is answered (`SearchHit`, `Duplicate`).
- `index`: the two-stage index. The cheap stage matches each query word once against the
  vocabulary of distinct words and reads every record's coverage from posting lists with numpy;
  the fine stage re-ranks a short list by how much of the record's name the query explains.
- `duplicates`: partners and people that probably exist already. Duplicate detection needs
  certainty more than speed: it compares the candidate with every partner of the same town (a few
  hundred at most) with word-order-insensitive scores.

The names below are the package's interface; import them from `referral.search`.
"""

from __future__ import annotations

from referral.search.duplicates import (
    PARTNER_NAME_THRESHOLD,
    PERSON_NAME_THRESHOLD,
    PartnerCandidate,
    PartnerIdentity,
    PersonRecord,
    partner_duplicates,
    person_duplicates,
)
from referral.search.index import SearchIndex
from referral.search.records import Duplicate, SearchHit, SearchRecord
from referral.search.text import (
    DEFAULT_STOP_WORDS,
    DUPLICATE_STOP_WORDS,
    GRAMMATICAL_WORDS,
    ORGANISATION_WORDS,
    fold,
    significant_words,
)

__all__ = [
    "DEFAULT_STOP_WORDS",
    "DUPLICATE_STOP_WORDS",
    "GRAMMATICAL_WORDS",
    "ORGANISATION_WORDS",
    "PARTNER_NAME_THRESHOLD",
    "PERSON_NAME_THRESHOLD",
    "Duplicate",
    "PartnerCandidate",
    "PartnerIdentity",
    "PersonRecord",
    "SearchHit",
    "SearchIndex",
    "SearchRecord",
    "fold",
    "partner_duplicates",
    "person_duplicates",
    "significant_words",
]
