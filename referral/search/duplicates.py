"""Duplicate detection: a partner that probably exists already, a person already followed.

It needs certainty more than speed: a candidate partner is compared with every partner of the same
town (a few hundred at most, read from the `SearchIndex`) and a person with the people of the
structure, with word-order-insensitive scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from rapidfuzz import fuzz

from referral.search.index import SearchIndex
from referral.search.records import Duplicate
from referral.search.text import DUPLICATE_STOP_WORDS, fold, folded_words, only_digits, significant_words

# A folded, stop-word-free name at least this close (0–100) in the same town is a likely duplicate.
PARTNER_NAME_THRESHOLD = 88.0
# A full name at least this close, with the same birth date, is probably the same person.
PERSON_NAME_THRESHOLD = 85.0


class PartnerIdentity(Protocol):
    """What identifies a partner: a `SearchRecord` or a `PartnerCandidate` both fit."""

    @property
    def name(self) -> str: ...

    @property
    def town(self) -> str: ...

    @property
    def siret(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PartnerCandidate:
    """A partner about to be created (or renamed), not yet in the index."""

    name: str
    town: str = ""
    siret: str | None = None


def _name_similarity(left: Sequence[str], right: Sequence[str]) -> float:
    """Word-order-insensitive similarity of two word lists (folded, stop words out), 0–100.

    Sorted words compared as one string catch a typo anywhere; the same words glued together
    catch « Inser net » against « Insernet » and « Ben Ali » against « Benali ».
    """
    if not left or not right:
        return 0.0
    sorted_score = fuzz.ratio(" ".join(sorted(left)), " ".join(sorted(right)))
    glued_score = fuzz.ratio("".join(sorted(left)), "".join(sorted(right)))
    ordered_glued = fuzz.ratio("".join(left), "".join(right))
    return max(sorted_score, glued_score, ordered_glued)


def partner_duplicates(
    candidate: PartnerIdentity,
    index: SearchIndex,
    *,
    exclude_id: int | None = None,
    threshold: float = PARTNER_NAME_THRESHOLD,
) -> list[Duplicate]:
    """Partners that are probably `candidate` already, best first (ties by id).

    Same SIRET: certain (100). Same SIREN (the company) in the same town: very likely. Otherwise
    a close name in the same town (towns folded; two partners without a town count as the same
    place, e.g. national networks), compared without accents, case, word order, stop words nor
    « Association »; one typo is tolerated. A close name in another town is not a duplicate: the
    same network has a branch in many towns (« Restos du Cœur »). `exclude_id` leaves out the
    partner being edited.
    """
    found: dict[int, Duplicate] = {}

    def keep(duplicate: Duplicate) -> None:
        if duplicate.id == exclude_id:
            return
        current = found.get(duplicate.id)
        if current is None or duplicate.score > current.score:
            found[duplicate.id] = duplicate

    siret = only_digits(candidate.siret)
    town = fold(candidate.town)
    if len(siret) == 14:
        for record in index.records_with_siret(siret):
            keep(Duplicate(record.id, 100.0, f"Même SIRET ({_format_siret(siret)})."))
        for record in index.records_with_siret(siret[:9]):
            if fold(record.town) == town and only_digits(record.siret) != siret:
                keep(
                    Duplicate(
                        record.id,
                        95.0,
                        f"Même entreprise (SIREN {_format_siret(siret[:9])}) dans la même commune.",
                    )
                )
    words = significant_words(candidate.name, DUPLICATE_STOP_WORDS)
    if words:
        for record in index.records_in_town(town):
            place = f"à {record.town.strip()}" if town else "sans commune"
            other = significant_words(record.name, DUPLICATE_STOP_WORDS)
            score = round(_name_similarity(words, other), 1)
            if score < threshold:
                continue
            if score >= 100.0:
                reason = f"Même nom, {place} : « {record.name} »."
            else:
                reason = f"Nom très proche, {place} : « {record.name} »."
            keep(Duplicate(record.id, score, reason))
    return sorted(found.values(), key=lambda duplicate: (-duplicate.score, duplicate.id))


def _format_siret(digits: str) -> str:
    return " ".join(digits[i : i + 3] for i in range(0, 9, 3)) + (f" {digits[9:]}" if len(digits) > 9 else "")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person already followed by a structure: only what duplicate detection compares."""

    id: int
    first_name: str
    last_name: str
    birth_date: date | None


def person_duplicates(
    first_name: str,
    last_name: str,
    birth_date: date | None,
    people: Iterable[PersonRecord],
    *,
    threshold: float = PERSON_NAME_THRESHOLD,
) -> list[Duplicate]:
    """People probably already followed: same birth date and a close full name, best first.

    The birth date must be equal (it is what makes two similar names the same person); then the
    folded full names are compared whatever the order of first and last name, with compound names
    written with a hyphen, a space or glued, one typo, and one part of a compound name left out
    (« Marie-Claire Dupont » / « Marie Dupont »). Without a birth date nothing is claimed.
    """
    if birth_date is None:
        return []
    first = folded_words(first_name)
    last = folded_words(last_name)
    if not first and not last:
        return []
    found = []
    for person in people:
        if person.birth_date != birth_date:
            continue
        other_first = folded_words(person.first_name)
        other_last = folded_words(person.last_name)
        scored = _person_similarity(first, last, other_first, other_last)
        if scored is None or scored[0] < threshold:
            continue
        score, reason = scored
        reason = f"Même date de naissance ({_french_date(birth_date)}) et {reason}."
        found.append(Duplicate(person.id, round(score, 1), reason))
    return sorted(found, key=lambda duplicate: (-duplicate.score, duplicate.id))


def _person_similarity(
    first: list[str], last: list[str], other_first: list[str], other_last: list[str]
) -> tuple[float, str] | None:
    """The best reading of two names as the same person, with how it reads, in French.

    A typo is looked for part by part: the first names and the last names must each be close,
    so that twins « Paul » and « Pauline Durand » are not taken for one person (the whole strings
    differ by three letters only).
    """
    mine = first + last
    theirs = other_first + other_last
    if not mine or not theirs:
        return None
    if "".join(mine) == "".join(theirs):
        return 100.0, "même nom"
    if "".join(mine) == "".join(other_last + other_first):
        return 99.0, "prénom et nom inversés"
    if sorted(mine) == sorted(theirs):
        return 98.0, "mêmes noms dans un autre ordre"
    # One part of a compound first or last name left out: every word of the shorter name is in
    # the longer one, and both a first and a last name are matched.
    shorter, longer = (mine, theirs) if len(mine) <= len(theirs) else (theirs, mine)
    if (
        2 <= len(shorter) < len(longer)
        and all(word in longer for word in shorter)
        and _covers_both_parts(first, last, other_first, other_last)
    ):
        return 90.0, "nom composé en partie seulement"
    straight = _parts_similarity((first, other_first), (last, other_last))
    swapped = _parts_similarity((first, other_last), (last, other_first))
    if swapped > straight:
        return swapped, "prénom et nom inversés, à une faute près"
    return straight, "nom très proche (faute de frappe probable)"


_PERSON_PART_MINIMUM = 75.0


def _parts_similarity(*pairs: tuple[list[str], list[str]]) -> float:
    """Length-weighted similarity of paired name parts; 0 when any part is not close on its own."""
    total = 0.0
    length = 0
    for mine, theirs in pairs:
        left, right = "".join(mine), "".join(theirs)
        score = fuzz.ratio(left, right)
        if score < _PERSON_PART_MINIMUM:
            return 0.0
        total += score * (len(left) + len(right))
        length += len(left) + len(right)
    return total / length if length else 0.0


def _covers_both_parts(
    first: list[str], last: list[str], other_first: list[str], other_last: list[str]
) -> bool:
    """True when a first-name word and a last-name word are shared (in either order)."""
    straight = bool(set(first) & set(other_first)) and bool(set(last) & set(other_last))
    swapped = bool(set(first) & set(other_last)) and bool(set(last) & set(other_first))
    return straight or swapped


_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()  # noqa: SIM905, E501


def _french_date(day: date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {_MONTHS[day.month - 1]} {day.year}"
