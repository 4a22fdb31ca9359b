"""Fuzzy search of partners and opportunities, and duplicate detection (DESIGN §6, issues 4 and 7).

Pure: no Flask, no session. The service builds one `SearchIndex` per kind of record (partners,
opportunities) from plain `SearchRecord`s and keeps it fresh with `add`/`update`/`remove` when a
partner or an opportunity changes; the web layer turns `SearchHit`s into `[{id, name, town, score}]`.

Why this shape:

- Everything is compared on `fold`ed text: social workers type without accents, in lower case,
  with or without the apostrophes and hyphens of « Centre d’hébergement Saint-Jean ».
- Search is two-stage. The cheap stage works on the *vocabulary* of distinct words (some 12,000
  for 50,000 names), not on the names: each query word is matched once against the vocabulary
  (exact and prefix « as you type » by bisection in the sorted words; one typo, or a typo in a
  prefix, by rapidfuzz on the few words sharing enough trigrams with it) and the matching words'
  posting lists give every record's coverage of the query in a handful of numpy operations.
  Word order does not matter by construction. The fine stage re-ranks a short list by how much
  of the record's *name* the query explains and by plain character similarity, so « cpam lyon »
  ranks « CPAM de Lyon » above « CPAM de Lyon — antenne Vaise Saint-Rambert ».
- Query words are weighted by rarity (inverse document frequency) so that « lyon » in
  « tremplin lyon » counts less than « tremplin »; grammatical words (« de », « la », « l’ »…)
  are not indexed, while « association » is, as a common hence light word: `referral bench
  search` measures both lists and this choice ranks best.
- Duplicate detection needs certainty more than speed: it compares the candidate with every
  partner of the same town (a few hundred at most) with word-order-insensitive scores.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from bisect import bisect_left, insort
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple, Protocol

import numpy as np
from rapidfuzz import fuzz, process

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

TerritoryId = Hashable

# --------------------------------------------------------------------------------------------------
# Folding
# --------------------------------------------------------------------------------------------------

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


def _fold_many(texts: Sequence[str]) -> list[str]:
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
_ABBREVIATIONS: dict[str, str] = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def _words(text: str) -> list[str]:
    words = fold(text).split()
    if _ABBREVIATIONS.keys().isdisjoint(words):
        return words
    return [_ABBREVIATIONS.get(word, word) for word in words]


def significant_words(text: str, stop_words: frozenset[str] = DEFAULT_STOP_WORDS) -> list[str]:
    """The folded words of `text` that identify it: stop words out, unless nothing else is left.

    « Association de la Boussole » → ["association", "boussole"], or ["boussole"] with
    `DUPLICATE_STOP_WORDS`; a name made of stop words only (« Les Uns et les Autres ») keeps all its
    words so that it can still be found.
    """
    return _significant(_words(text), stop_words)


def _significant(words: list[str], stop_words: frozenset[str]) -> list[str]:
    kept = [word for word in words if word not in stop_words]
    return kept or words


# --------------------------------------------------------------------------------------------------
# Records and results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """One searchable partner or opportunity, as plain data.

    For an opportunity, `name` is its title and `aliases` holds the partner's name; for a partner,
    `aliases` may hold an acronym or a former name. `territory_ids` are the territories the record
    serves (a national partner lists each territory where it is deployed); `None` means every
    territory; an empty set, none (found by national searches only). `siret` (spaces allowed) is
    used by `partner_duplicates` only.
    """

    id: int
    name: str
    town: str = ""
    tags: tuple[str, ...] = ()
    territory_ids: frozenset[TerritoryId] | None = frozenset()
    kind: str = ""
    siret: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept any iterable from callers (lists from the database) but keep the record hashable.
        if not isinstance(self.tags, tuple):
            object.__setattr__(self, "tags", tuple(self.tags))
        if not isinstance(self.aliases, tuple):
            object.__setattr__(self, "aliases", tuple(self.aliases))
        if self.territory_ids is not None and not isinstance(self.territory_ids, frozenset):
            object.__setattr__(self, "territory_ids", frozenset(self.territory_ids))


class SearchHit(NamedTuple):
    """A search result: the record's id and a score from 0 to 100 (100: the query is the name)."""

    id: int
    score: float


class Duplicate(NamedTuple):
    """A likely duplicate: its id, a score from 0 to 100 and the reason, in French, for the user."""

    id: int
    score: float
    reason: str


# --------------------------------------------------------------------------------------------------
# Search index
# --------------------------------------------------------------------------------------------------

# Word-level similarity (0–100) of a query word to an indexed word. An exact word scores 100; a
# prefix (typing in progress) 90–100 growing with how much of the word is typed; a whole word with
# one typo scores its rapidfuzz ratio (≥ 75: one substitution in a five-letter word); a typed prefix
# with a typo scores a little below a clean prefix.
_MIN_PREFIX = 2
_MIN_FUZZY = 3
_MIN_FUZZY_PREFIX = 4
_FUZZY_CUTOFF = 75.0
_FUZZY_PREFIX_FACTOR = 0.95
# Share of the final score given to how much of the record's name the query explains (the rest
# is how much of the query the record explains).
_NAME_COVERAGE_SHARE = 0.3
# Share given to the plain character similarity of the folded query and name, in order: it breaks
# near-ties in favour of the name as typed (« Garage Royer » before « Royer Garage », a typo in
# « Associayion » still closer to « Association Le Pont » than to « Le Pont »). Measured by the
# bench when it came in: recall@1 0.83 → 0.89 on 50,000 names.
_CHARACTER_SHARE = 0.1
_CHARACTER_SCORER = fuzz.ratio
# A query word found in the town, kind or tags counts a little less than in the name: « tremplin
# lyon » is first « Tremplin Lyon », then the « Tremplin » of Lyon.
_OTHER_FIELD_FACTOR = 0.9
_SIZE_TIE_BREAK = 0.01
_MAX_QUERY_WORDS = 12
_TYPO_CANDIDATES = 600
_SHORTLIST_MIN = 40
_SHORTLIST_PER_RESULT = 4


def _prefix_score(typed: int, length: int) -> float:
    return 90.0 + 10.0 * typed / length


@dataclass(slots=True)
class _Slot:
    """One indexed record. `tokens` are its word ids, the name's first (`name_count` of them)."""

    record: SearchRecord
    text: str
    tokens: tuple[int, ...]
    name_count: int
    town: str
    siret: str | None


@dataclass(slots=True)
class _QueryWord:
    weight: float
    matches: dict[int, float] = field(default_factory=dict)


class SearchIndex:
    """In-memory fuzzy index of partners or opportunities, updated in place.

    Thread-safe: one lock serialises updates and searches (a search takes about a millisecond).
    Ranking is deterministic: equal scores are ordered by id, whatever the order records came in.
    """

    def __init__(
        self,
        records: Iterable[SearchRecord] = (),
        *,
        stop_words: frozenset[str] = DEFAULT_STOP_WORDS,
    ) -> None:
        self._stop_words = stop_words
        self._lock = threading.RLock()
        # Vocabulary: each distinct indexed word once.
        self._words: list[str] = []
        self._word_ids: dict[str, int] = {}
        self._sorted_words: list[str] = []
        # Trigrams of the vocabulary (padded at the start): which words a typed word may be a typo
        # of, without comparing it with every word.
        self._grams: dict[str, list[int]] = {}
        self._gram_arrays: dict[str, np.ndarray] = {}
        self._lengths = np.zeros(0, dtype=np.int32)
        # Posting lists: word id → 2 × slot + 1 where the word is in the record's name, + 0 where
        # it is in its town, kind or tags. Their arrays (slots, score factor) are built with the
        # index, dropped when the list changes and rebuilt when next needed.
        self._postings: list[list[int]] = []
        self._posting_arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # Slots: records by position; freed positions are reused.
        self._slots: list[_Slot | None] = []
        self._free: list[int] = []
        self._slot_of: dict[int, int] = {}
        self._ids = np.zeros(0, dtype=np.int64)
        self._name_sizes = np.zeros(0, dtype=np.float32)
        self._everywhere = np.zeros(0, dtype=bool)
        self._territories: dict[TerritoryId, np.ndarray] = {}
        self._by_town: dict[str, set[int]] = {}
        self._by_siret: dict[str, set[int]] = {}
        self._by_siren: dict[str, set[int]] = {}
        # Towns, kinds and tags repeat across records: their folding is remembered (word ids are
        # never reused, so the cache cannot go stale).
        self._field_cache: dict[str, tuple[int, ...]] = {}
        self._field_folds: dict[str, str] = {}
        self._loading = True
        self._bulk_load(list(records))
        self._loading = False

    # ---- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._slot_of

    def __iter__(self) -> Iterator[SearchRecord]:
        """The records, by id (a stable order for callers that list them)."""
        with self._lock:
            slots = [self._slots[slot] for _, slot in sorted(self._slot_of.items())]
        return iter([slot.record for slot in slots if slot is not None])

    def get(self, record_id: int) -> SearchRecord | None:
        slot = self._slot_of.get(record_id)
        if slot is None:
            return None
        entry = self._slots[slot]
        return entry.record if entry is not None else None

    @property
    def stop_words(self) -> frozenset[str]:
        return self._stop_words

    # ---- updates ----------------------------------------------------------------------------

    def add(self, record: SearchRecord) -> None:
        """Index a new record; `ValueError` if its id is already indexed (use `update`)."""
        with self._lock:
            if record.id in self._slot_of:
                raise ValueError(f"record {record.id} is already indexed")
            self._insert(record)

    def update(self, record: SearchRecord) -> None:
        """Replace the record with the same id, or add it: the service calls this on any change."""
        with self._lock:
            self._delete(record.id)
            self._insert(record)

    def remove(self, record_id: int) -> bool:
        """Forget a record; False when it was not indexed (removing twice is harmless)."""
        with self._lock:
            return self._delete(record_id)

    def _bulk_load(self, records: list[SearchRecord]) -> None:
        """Build from many records at once: same structures as `add`, without per-record numpy."""
        count = len(records)
        capacity = max(16, count)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._name_sizes = np.zeros(capacity, dtype=np.float32)
        self._everywhere = np.zeros(capacity, dtype=bool)
        territory_slots: dict[TerritoryId, list[int]] = {}
        everywhere: list[int] = []
        # Posting entries gathered flat, then grouped by word with numpy: the same lists as `add`
        # builds, without half a million appends one by one.
        flat_words: list[int] = []
        flat_codes: list[int] = []
        slot_of = self._slot_of
        by_town = self._by_town
        folded_names = _fold_many([record.name for record in records])
        for slot, (record, folded_name) in enumerate(zip(records, folded_names, strict=True)):
            if record.id in slot_of:
                raise ValueError(f"record {record.id} is given twice")
            entry = self._tokenise(record, folded_name)
            self._slots.append(entry)
            slot_of[record.id] = slot
            flat_words += entry.tokens
            flat_codes += [2 * slot + 1] * entry.name_count
            if len(entry.tokens) > entry.name_count:
                flat_codes += [2 * slot] * (len(entry.tokens) - entry.name_count)
            if record.territory_ids is None:
                everywhere.append(slot)
            else:
                for territory in record.territory_ids:
                    if territory in territory_slots:
                        territory_slots[territory].append(slot)
                    else:
                        territory_slots[territory] = [slot]
            if entry.town in by_town:
                by_town[entry.town].add(slot)
            else:
                by_town[entry.town] = {slot}
            if entry.siret:
                self._index_siret(entry.siret, slot)
        self._ids[:count] = np.fromiter((record.id for record in records), dtype=np.int64, count=count)
        self._name_sizes[:count] = np.fromiter(
            (entry.name_count for entry in self._slots if entry is not None), dtype=np.float32, count=count
        )
        self._everywhere[everywhere] = True
        for territory, slots in territory_slots.items():
            mask = np.zeros(capacity, dtype=bool)
            mask[slots] = True
            self._territories[territory] = mask
        self._sorted_words = sorted(self._word_ids)
        for word_id, word in enumerate(self._words):
            self._index_grams(word_id, word)
        self._gram_arrays = {gram: np.array(ids, dtype=np.int64) for gram, ids in self._grams.items()}
        # Posting lists and all their arrays at once (views into one array): the first searches
        # then cost no more than the next ones.
        words = np.array(flat_words, dtype=np.int64)
        flat = np.array(flat_codes, dtype=np.int64)[np.argsort(words, kind="stable")]
        flat_slots, flat_factors = _decode(flat)
        ends = np.cumsum(np.bincount(words, minlength=len(self._words))).tolist()
        starts = [0, *ends][: len(ends)]
        self._postings = [flat[start:end].tolist() for start, end in zip(starts, ends, strict=True)]
        self._posting_arrays = {
            word_id: (flat_slots[start:end], flat_factors[start:end])
            for word_id, (start, end) in enumerate(zip(starts, ends, strict=True))
        }

    def _tokenise(self, record: SearchRecord, folded_name: str | None = None) -> _Slot:
        """Word ids of the record's name (and aliases), and of everything searchable."""
        words = (fold(record.name) if folded_name is None else folded_name).split()
        if not _ABBREVIATIONS.keys().isdisjoint(words):
            words = [_ABBREVIATIONS.get(word, word) for word in words]
        name_words = _significant(words, self._stop_words)
        for alias in record.aliases:
            name_words += significant_words(alias, self._stop_words)
        word_ids = self._word_ids
        name_tokens = [word_ids.get(word) or self._word_id(word) for word in name_words]
        if len(name_tokens) > 1 and len(set(name_tokens)) < len(name_tokens):
            name_tokens = list(dict.fromkeys(name_tokens))
        other_tokens = self._field_tokens(record.town) + self._field_tokens(record.kind)
        for tag in record.tags:
            other_tokens += self._field_tokens(tag)
        tokens = tuple(name_tokens + [token for token in other_tokens if token not in name_tokens])
        if len(set(tokens)) < len(tokens):
            tokens = tuple(dict.fromkeys(tokens))  # keeps the name's tokens first
        town = self._field_folds.get(record.town)
        if town is None:
            town = self._field_folds[record.town] = fold(record.town)
        siret = _digits(record.siret) if record.siret else None
        return _Slot(record, " ".join(words), tokens, len(name_tokens), town, siret or None)

    def _field_tokens(self, text: str) -> tuple[int, ...]:
        """Word ids of a town, kind or tag: few distinct values, so folded once and remembered."""
        tokens = self._field_cache.get(text)
        if tokens is None:
            words = significant_words(text, self._stop_words)
            tokens = self._field_cache[text] = tuple(self._word_id(word) for word in words)
        return tokens

    def _word_id(self, word: str) -> int:
        word_id = self._word_ids.get(word)
        if word_id is None:
            word_id = len(self._words)
            self._word_ids[word] = word_id
            self._words.append(word)
            self._postings.append([])
            if not self._loading:
                insort(self._sorted_words, word)
                self._index_grams(word_id, word)
        return word_id

    def _index_grams(self, word_id: int, word: str) -> None:
        grams = self._grams
        for gram in _grams(word):
            if gram in grams:
                grams[gram].append(word_id)
            else:
                grams[gram] = [word_id]
            if not self._loading:
                self._gram_arrays.pop(gram, None)

    def _insert(self, record: SearchRecord) -> None:
        entry = self._tokenise(record)
        if self._free:
            slot = self._free.pop()
            self._slots[slot] = entry
        else:
            slot = len(self._slots)
            self._slots.append(entry)
            if slot >= len(self._ids):
                self._grow(max(16, 2 * len(self._ids)))
        self._slot_of[record.id] = slot
        self._ids[slot] = record.id
        self._name_sizes[slot] = entry.name_count
        for position, word_id in enumerate(entry.tokens):
            self._postings[word_id].append(2 * slot + (position < entry.name_count))
            self._posting_arrays.pop(word_id, None)
        if record.territory_ids is None:
            self._everywhere[slot] = True
        else:
            for territory in record.territory_ids:
                mask = self._territories.get(territory)
                if mask is None:
                    mask = self._territories[territory] = np.zeros(len(self._ids), dtype=bool)
                mask[slot] = True
        self._by_town.setdefault(entry.town, set()).add(slot)
        self._index_siret(entry.siret, slot)

    def _index_siret(self, siret: str | None, slot: int) -> None:
        if siret:
            self._by_siret.setdefault(siret, set()).add(slot)
            self._by_siren.setdefault(siret[:9], set()).add(slot)

    def _delete(self, record_id: int) -> bool:
        slot = self._slot_of.pop(record_id, None)
        if slot is None:
            return False
        entry = self._slots[slot]
        assert entry is not None
        for position, word_id in enumerate(entry.tokens):
            self._postings[word_id].remove(2 * slot + (position < entry.name_count))
            self._posting_arrays.pop(word_id, None)
        self._everywhere[slot] = False
        for territory in entry.record.territory_ids or ():
            self._territories[territory][slot] = False
        self._by_town[entry.town].discard(slot)
        if entry.siret:
            self._by_siret[entry.siret].discard(slot)
            self._by_siren[entry.siret[:9]].discard(slot)
        self._slots[slot] = None
        self._free.append(slot)
        return True

    def _grow(self, capacity: int) -> None:
        def grown(array: np.ndarray) -> np.ndarray:
            bigger = np.zeros(capacity, dtype=array.dtype)
            bigger[: len(array)] = array
            return bigger

        self._ids = grown(self._ids)
        self._name_sizes = grown(self._name_sizes)
        self._everywhere = grown(self._everywhere)
        for territory, mask in self._territories.items():
            self._territories[territory] = grown(mask)

    def _posting_array(self, word_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The slots holding a word, and the factor of a match there (name 1, other fields less)."""
        arrays = self._posting_arrays.get(word_id)
        if arrays is None:
            arrays = self._posting_arrays[word_id] = _decode(
                np.array(self._postings[word_id], dtype=np.int64)
            )
        return arrays

    # ---- search -----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        territory: TerritoryId | None = None,
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[SearchHit]:
        """The records best matching `query`, best first, ties by id.

        `territory` keeps the records serving that territory (and those serving every territory);
        `None` searches nationally. Typos, accents, case, word order and unfinished words
        (« bail soc lyo ») are tolerated.
        """
        if limit <= 0:
            return []
        with self._lock:
            words = self._query_words(query)
            if not words or not self._slot_of:
                return []
            coverage = self._coverage(words)
            # Among equal coverages the short list keeps the shorter names: « arc en ciel » covers
            # hundreds of « … Arc-en-Ciel » whole, and « Arc-en-Ciel » itself must be kept.
            size = len(coverage)
            rough = coverage - np.float32(_SIZE_TIE_BREAK) * self._name_sizes[:size]
            if territory is not None:
                mask = self._territories.get(territory)
                allowed = self._everywhere if mask is None else (mask | self._everywhere)
                rough *= allowed[:size]
            shortlist = _top_slots(rough, self._ids, max(_SHORTLIST_MIN, _SHORTLIST_PER_RESULT * limit))
            hits = self._rerank(" ".join(_words(query)), words, coverage, shortlist)
        hits = [hit for hit in hits if hit.score >= min_score and hit.score > 0]
        return hits[:limit]

    def _query_words(self, query: str) -> list[_QueryWord]:
        """Each distinct query word, matched against the vocabulary and weighted by rarity."""
        # A pasted paragraph is not a search: its first words are enough, and each word costs a
        # pass over the vocabulary.
        words = list(dict.fromkeys(significant_words(query, self._stop_words)))[:_MAX_QUERY_WORDS]
        total = len(self._slot_of)
        result = []
        for word in words:
            matches = self._match(word)
            frequency = sum(len(self._postings[word_id]) for word_id in matches)
            # Smoothed inverse document frequency; a word matching nothing weighs like the rarest.
            weight = 1.0 + math.log((total + 1) / (min(frequency, total) + 1))
            result.append(_QueryWord(weight, matches))
        return result

    def _match(self, word: str) -> dict[int, float]:
        """Vocabulary words similar to one query word, with their word-level score."""
        matches: dict[int, float] = {}
        length = len(word)
        sorted_words = self._sorted_words
        start = bisect_left(sorted_words, word)
        if length >= _MIN_PREFIX:
            end = bisect_left(sorted_words, word + "\uffff", start)
        else:
            end = start + 1 if start < len(sorted_words) and sorted_words[start] == word else start
        for candidate in sorted_words[start:end]:
            matches[self._word_ids[candidate]] = (
                100.0 if candidate == word else _prefix_score(length, len(candidate))
            )
        if length >= _MIN_FUZZY:
            candidates = self._typo_candidates(word)
            words = self._words
            whole = [words[word_id] for word_id in candidates]
            for _, score, index in process.extract(
                word, whole, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=None
            ):
                word_id = candidates[index]
                if score > matches.get(word_id, 0.0):
                    matches[word_id] = score
            if length >= _MIN_FUZZY_PREFIX:
                # A typo in an unfinished word: compare with the start of longer words.
                starts = [candidate[:length] for candidate in whole]
                for _, score, index in process.extract(
                    word, starts, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=None
                ):
                    if len(whole[index]) > length:
                        word_id = candidates[index]
                        score *= _FUZZY_PREFIX_FACTOR
                        if score > matches.get(word_id, 0.0):
                            matches[word_id] = score
        return matches

    def _typo_candidates(self, word: str) -> list[int]:
        """Vocabulary words sharing enough start-padded trigrams with `word` to be one typo away.

        One edit (a wrong, missing, extra or swapped letter) changes at most four of a word's
        trigrams, so a word of length L one typo away from a vocabulary word, or from the start
        of one, shares at least L − 4 of them. Only those are compared letter by letter.
        """
        arrays = [array for gram in _grams(word) if (array := self._gram_array(gram)) is not None]
        if not arrays:
            return []
        counts = np.bincount(np.concatenate(arrays), minlength=len(self._words))
        # A ratio of 75 needs lengths within 0.6–1.67 times each other; an unfinished word (4
        # letters or more) may also be the start of any longer word.
        lengths = self._word_lengths()
        length = len(word)
        too_far = lengths < 0.6 * length
        if length < _MIN_FUZZY_PREFIX:
            too_far |= lengths > length / 0.6
        counts[too_far] = 0
        # Short words share a trigram or two with thousands of words: raise the bar to the lowest
        # count that keeps at most _TYPO_CANDIDATES words (or to the top count). Chosen by counts
        # only, never by word id, so results do not depend on the order words came in.
        at_least = np.cumsum(np.bincount(counts)[::-1])[::-1]  # at_least[c]: words sharing ≥ c
        threshold = max(1, length - 4)
        while threshold < len(at_least) - 1 and at_least[threshold] > _TYPO_CANDIDATES:
            threshold += 1
        return np.flatnonzero(counts >= threshold).tolist()

    def _word_lengths(self) -> np.ndarray:
        if len(self._lengths) != len(self._words):
            self._lengths = np.fromiter(map(len, self._words), dtype=np.int32, count=len(self._words))
        return self._lengths

    def _gram_array(self, gram: str) -> np.ndarray | None:
        array = self._gram_arrays.get(gram)
        if array is None:
            ids = self._grams.get(gram)
            if ids is None:
                return None
            array = self._gram_arrays[gram] = np.array(ids, dtype=np.int64)
        return array

    def _coverage(self, words: list[_QueryWord]) -> np.ndarray:
        """Per slot, the weighted share (0–100) of the query the record answers (cheap stage)."""
        size = len(self._slots)
        total = np.zeros(size, dtype=np.float32)
        weights = 0.0
        for word in words:
            weights += word.weight
            if not word.matches:
                continue
            arrays = []
            scores = []
            for word_id, score in word.matches.items():
                slots, factors = self._posting_array(word_id)
                if len(slots):
                    arrays.append(slots)
                    scores.append(factors * np.float32(score))
            if not arrays:
                continue
            best = np.zeros(size, dtype=np.float32)
            if len(arrays) == 1:
                best[arrays[0]] = scores[0]
            else:
                # A record holding several matching words counts its best one.
                np.maximum.at(best, np.concatenate(arrays), np.concatenate(scores))
            total += np.float32(word.weight) * best
        total /= np.float32(weights)
        return total

    def _rerank(
        self, query: str, words: list[_QueryWord], coverage: np.ndarray, shortlist: np.ndarray
    ) -> list[SearchHit]:
        """Fine stage: mix query coverage with how much of the record's name the query explains."""
        best_by_word: dict[int, float] = {}
        for word in words:
            for word_id, score in word.matches.items():
                if score > best_by_word.get(word_id, 0.0):
                    best_by_word[word_id] = score
        total = max(1, len(self._slot_of))
        rarity: dict[int, float] = {}
        hits = []
        for slot in shortlist.tolist():
            entry = self._slots[slot]
            assert entry is not None
            explained = 0.0
            weights = 0.0
            for word_id in entry.tokens[: entry.name_count]:
                weight = rarity.get(word_id)
                if weight is None:
                    weight = rarity[word_id] = 1.0 + math.log(
                        (total + 1) / (len(self._postings[word_id]) + 1)
                    )
                weights += weight
                explained += weight * best_by_word.get(word_id, 0.0)
            name_coverage = explained / weights if weights else 0.0
            character = _CHARACTER_SCORER(query, entry.text) if _CHARACTER_SHARE else 0.0
            score = (
                (1 - _NAME_COVERAGE_SHARE - _CHARACTER_SHARE) * float(coverage[slot])
                + _NAME_COVERAGE_SHARE * name_coverage
                + _CHARACTER_SHARE * character
            )
            hits.append(SearchHit(entry.record.id, round(min(score, 100.0), 1)))
        hits.sort(key=lambda hit: (-hit.score, hit.id))
        return hits

    # ---- for duplicate detection ------------------------------------------------------------

    def _records_in_town(self, folded_town: str) -> list[SearchRecord]:
        with self._lock:
            slots = self._by_town.get(folded_town, ())
            return [entry.record for slot in slots if (entry := self._slots[slot]) is not None]

    def _records_with_siret(self, digits: str) -> list[SearchRecord]:
        """Records whose SIRET is `digits` (14 digits) or whose SIREN is `digits` (9 digits)."""
        with self._lock:
            slots = (self._by_siret if len(digits) == 14 else self._by_siren).get(digits, ())
            return [entry.record for slot in slots if (entry := self._slots[slot]) is not None]


def _top_slots(scores: np.ndarray, ids: np.ndarray, count: int) -> np.ndarray:
    """The `count` best-scoring slots with a positive score; ties at the cut go to the smaller ids.

    Ties are common (« lyon » alone matches every partner of Lyon equally), and cutting them by
    slot position would make results depend on insertion order.
    """
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) <= count:
        return candidates
    values = scores[candidates]
    threshold = np.partition(values, len(values) - count)[len(values) - count]
    above = candidates[values > threshold]
    tied = candidates[values == threshold]
    needed = count - len(above)
    if len(tied) > needed:
        tied = tied[np.argsort(ids[tied], kind="stable")[:needed]]
    return np.concatenate([above, tied])


def _decode(postings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factors = np.where(postings & 1, np.float32(1.0), np.float32(_OTHER_FIELD_FACTOR)).astype(np.float32)
    return postings >> 1, factors


def _grams(word: str) -> list[str]:
    """Trigrams of a word padded at its start only, so that a word shares them with its prefixes."""
    padded = "  " + word
    return list(dict.fromkeys([padded[i : i + 3] for i in range(len(word))]))


def _digits(text: str | None) -> str:
    return "".join(ch for ch in text if ch.isdigit()) if text else ""


# --------------------------------------------------------------------------------------------------
# Duplicate detection
# --------------------------------------------------------------------------------------------------

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

    siret = _digits(candidate.siret)
    town = fold(candidate.town)
    if len(siret) == 14:
        for record in index._records_with_siret(siret):
            keep(Duplicate(record.id, 100.0, f"Même SIRET ({_format_siret(siret)})."))
        for record in index._records_with_siret(siret[:9]):
            if fold(record.town) == town and _digits(record.siret) != siret:
                keep(
                    Duplicate(
                        record.id,
                        95.0,
                        f"Même entreprise (SIREN {_format_siret(siret[:9])}) dans la même commune.",
                    )
                )
    words = significant_words(candidate.name, DUPLICATE_STOP_WORDS)
    if words:
        for record in index._records_in_town(town):
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
    first = _words(first_name)
    last = _words(last_name)
    if not first and not last:
        return []
    found = []
    for person in people:
        if person.birth_date != birth_date:
            continue
        other_first = _words(person.first_name)
        other_last = _words(person.last_name)
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
