"""Text as search compares it: folded (no case, accents nor punctuation), cut into words, stop words out.

Everything in `referral.search` is compared on `fold`ed text: social workers type without accents,
in lower case, with or without the apostrophes and hyphens of « Centre d’hébergement Saint-Jean ».
Folding is most of the time spent building an index of 50,000 names, hence the translation table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# « A.D.E.L. », « C.C.A.S » — written acronyms become one word before the dots become spaces.
_DOTTED_ACRONYM = re.compile(r"\b(?:\w\.){2,}\w?\b\.?")
_NON_WORD = re.compile(r"[\W_]+")
# Ligatures that NFKD leaves whole (« Cœur », « Lætitia »).
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ŀ": "l"})


def _fold_slowly(text: str) -> str:
    """The definition of folding, for any text (see `fold`, which is this made fast)."""
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold().translate(_LIGATURES)
    return _NON_WORD.sub(" ", text)


def _fold_table() -> dict[int, str]:
    """Latin letters and punctuation folded once, so that `fold` is one `str.translate`.

    Building 50,000 names spends most of its time folding; a table over ASCII, Latin-1, Latin
    Extended-A/B and general punctuation covers French text, and anything else takes the slow way.
    """
    table: dict[int, str] = {}
    for code in (*range(0x250), *range(0x2000, 0x2070), 0x20AC):
        folded = _fold_slowly(chr(code))
        table[code] = folded if folded.strip() else " "
    return table


_FOLD_TABLE = _fold_table()


def fold(text: str) -> str:
    """Fold text for comparison: lower case, no accents, no punctuation, single spaces.

    Apostrophes (’ and '), hyphens, dashes and any punctuation separate words, so
    « L’Escale — Saint-Jean » and « l escale saint jean » fold the same. Letters of other scripts
    are kept (a person's name may not be in Latin script).
    """
    if not text:
        return ""
    if "." in text:
        text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = text.translate(_FOLD_TABLE)
    if not text.isascii():
        text = _fold_slowly(text)
    return " ".join(text.split())


_FOLD_TABLE_LINES = {**_FOLD_TABLE, ord("\n"): "\n"}


def fold_many(texts: Sequence[str]) -> list[str]:
    """`fold` of many texts through one `str.translate`: for short names the calls cost the most."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return [fold(text) for text in texts]
    if "." in joined:
        joined = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), joined)
    lines = joined.translate(_FOLD_TABLE_LINES).split("\n")
    return [line if line.isascii() else _fold_slowly(line) for line in lines]


# Words that carry no identity in French organisation names, folded. Two lists, because
# `referral bench search` measures them apart (50,000 names): leaving the grammatical words out of
# the index ranks as well as indexing them (rarity weights already make them light) and searches
# some 15 % faster (shorter posting lists); leaving « association », « SARL »… out as well ranks
# worse (recall@1 −0.5 point: « Association Le Pont » and « Le Pont » become the same name), so
# search drops only the first list. Duplicate detection drops both: « Association Le Pont » *is*
# « Le Pont » when both are in the same town.
GRAMMATICAL_WORDS: frozenset[str] = frozenset(
    "a au aux avec chez d de des du en et l la le les par pour sur un une".split()  # noqa: SIM905
)
ORGANISATION_WORDS: frozenset[str] = frozenset(
    "association asso assoc sarl sas sasu eurl scop scic".split()  # noqa: SIM905
)
DEFAULT_STOP_WORDS: frozenset[str] = GRAMMATICAL_WORDS
DUPLICATE_STOP_WORDS: frozenset[str] = GRAMMATICAL_WORDS | ORGANISATION_WORDS

# Abbreviations written in names and queries alike (« St-Priest », « Ste Foy »).
ABBREVIATIONS: dict[str, str] = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def folded_words(text: str) -> list[str]:
    """The words of the folded text, abbreviations written out (« St-Priest » → saint priest)."""
    words = fold(text).split()
    if ABBREVIATIONS.keys().isdisjoint(words):
        return words
    return [ABBREVIATIONS.get(word, word) for word in words]


def significant_words(text: str, stop_words: frozenset[str] = DEFAULT_STOP_WORDS) -> list[str]:
    """The folded words of `text` that identify it: stop words out, unless nothing else is left.

    « Association de la Boussole » → ["association", "boussole"], or ["boussole"] with
    `DUPLICATE_STOP_WORDS`; a name made of stop words only (« Les Uns et les Autres ») keeps all its
    words so that it can still be found.
    """
    return significant_among(folded_words(text), stop_words)


def significant_among(words: list[str], stop_words: frozenset[str]) -> list[str]:
    """`significant_words` of words already folded."""
    kept = [word for word in words if word not in stop_words]
    return kept or words


def only_digits(text: str | None) -> str:
    """The digits of a SIRET or SIREN typed with spaces or dots."""
    return "".join(ch for ch in text if ch.isdigit()) if text else ""
