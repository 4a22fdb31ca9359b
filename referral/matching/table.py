"""Many participants as columns (« file active » of one or more territories), on one day.

The national batch and reverse matching look at thousands of people at once: one NumPy column
per field is what lets them evaluate a criterion for everybody in one operation. Values are the
same as `criteria.facts_for` gives one person (months in programme and age computed for `today`,
language level as its rank, yes/no as 1/0); NaN or -1 means « not recorded ».

Pure module: no Flask, no session.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from referral.matching.criteria import permit_urgency
from referral.matching.snapshot import ParticipantSnapshot, ReferenceTables

NUMERIC_FIELDS = (
    "months_in_programme",
    "weekly_hours",
    "age",
    "household_size",
    "children",
    "monthly_resources",
    "language_level",
    "driving_licence",
    "rqth",
)
CODE_FIELDS = ("territory", "programme", "residence_status", "housing_status", "health_coverage")

NAN = float("nan")


def _months(year: np.ndarray, month: np.ndarray, day: np.ndarray, today: date) -> np.ndarray:
    """`dates.whole_months` for a column of dates: the same clamped-day rule, vectorised."""
    months = (today.year - year) * 12 + (today.month - month)
    month_length = calendar.monthrange(today.year, today.month)[1]
    # add_months(start, months) lands in today's month on min(start day, month length).
    months -= np.minimum(day, month_length) > today.day
    return np.maximum(months, 0)


def _float_column(values: Iterable[object], count: int) -> np.ndarray:
    return np.fromiter(
        (NAN if value is None else float(value) for value in values),  # type: ignore[arg-type]
        dtype=np.float64,
        count=count,
    )


class ParticipantTable:
    """Participants as columns, for the batch and for reverse matching.

    `participants` keeps the snapshots in the table's order; `by_territory` gives each
    territory's row positions. Code columns hold an index into `vocabulary[field]` (-1: not
    recorded); open needs are kept as padded matrices of need-code indices (`need_codes`) and of
    need-key indices (`need_keys`, a key being (domain, subtype, priority)), -1 for padding.
    """

    def __init__(
        self, participants: Sequence[ParticipantSnapshot], reference: ReferenceTables, today: date
    ) -> None:
        people = tuple(participants)
        n = len(people)
        self.participants = people
        self.reference = reference
        self.today = today
        self.size = n
        self.ids = np.fromiter((p.id for p in people), dtype=np.int64, count=n)
        self.structure_ids = np.fromiter((p.structure_id for p in people), dtype=np.int64, count=n)
        self.territory_ids = np.fromiter((p.territory_id for p in people), dtype=np.int64, count=n)

        def date_parts(attribute: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            days = [getattr(p, attribute) for p in people]
            return (
                np.fromiter((d.year for d in days), dtype=np.int64, count=n),
                np.fromiter((d.month for d in days), dtype=np.int64, count=n),
                np.fromiter((d.day for d in days), dtype=np.int64, count=n),
            )

        ranks = reference.language_rank
        self.numeric: dict[str, np.ndarray] = {
            "months_in_programme": _months(*date_parts("entered_on"), today).astype(np.float64),
            "age": (_months(*date_parts("birth_date"), today) // 12).astype(np.float64),
            "weekly_hours": _float_column((p.weekly_hours for p in people), n),
            "household_size": _float_column((p.household_size for p in people), n),
            "children": _float_column((p.children for p in people), n),
            "monthly_resources": _float_column((p.monthly_resources for p in people), n),
            "language_level": _float_column((ranks.get(p.language_level) for p in people), n),  # type: ignore[arg-type]
            "driving_licence": _float_column((p.driving_licence for p in people), n),
            "rqth": _float_column((p.rqth for p in people), n),
        }

        slugs = reference.territory_slugs
        raw_codes: dict[str, list[str | None]] = {
            "territory": [slugs.get(p.territory_id) for p in people],
            "programme": [p.programme for p in people],
            "residence_status": [p.residence_status for p in people],
            "housing_status": [p.housing_status for p in people],
            "health_coverage": [p.health_coverage for p in people],
        }
        self.vocabulary: dict[str, tuple[str, ...]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for field, values in raw_codes.items():
            vocabulary = sorted({value for value in values if value is not None})
            lookup = {code: i for i, code in enumerate(vocabulary)}
            self.vocabulary[field] = tuple(vocabulary)
            self.codes[field] = np.fromiter(
                (-1 if value is None else lookup[value] for value in values), dtype=np.int64, count=n
            )

        precarity = reference.precarity
        covered = reference.covered
        self.precarity = np.fromiter(
            (-1 if p.housing_status is None else precarity.get(p.housing_status, -1) for p in people),
            dtype=np.int64,
            count=n,
        )
        self.covered = np.fromiter(
            (
                -1
                if p.health_coverage is None or p.health_coverage not in covered
                else int(covered[p.health_coverage])
                for p in people
            ),
            dtype=np.int64,
            count=n,
        )
        self.permit = np.fromiter(
            (permit_urgency(p, reference, today) for p in people), dtype=np.float64, count=n
        )
        self._index_needs(people)

        order = np.argsort(self.territory_ids, kind="stable")
        territories, starts = np.unique(self.territory_ids[order], return_index=True)
        self.by_territory: dict[int, np.ndarray] = (
            {
                int(territory): positions
                for territory, positions in zip(
                    territories.tolist(), np.split(order, starts[1:]), strict=True
                )
            }
            if n
            else {}
        )

    def _index_needs(self, people: Sequence[ParticipantSnapshot]) -> None:
        code_lookup: dict[str, int] = {}
        key_lookup: dict[tuple[str, str | None, int], int] = {}
        code_rows: list[list[int]] = []
        key_rows: list[list[int]] = []
        for person in people:
            codes: set[str] = set()
            keys: list[int] = []
            for need in person.needs:
                codes.add(need.domain)
                if need.subtype:
                    codes.add(need.subtype)
                key = (need.domain, need.subtype, need.priority)
                keys.append(key_lookup.setdefault(key, len(key_lookup)))
            code_rows.append([code_lookup.setdefault(code, len(code_lookup)) for code in sorted(codes)])
            key_rows.append(keys)
        self.need_vocabulary: tuple[str, ...] = tuple(code_lookup)
        self.need_key_vocabulary: tuple[tuple[str, str | None, int], ...] = tuple(key_lookup)
        self.need_codes = _padded(code_rows)
        self.need_keys = _padded(key_rows)

    def positions_in(self, territory_ids: Iterable[int]) -> np.ndarray:
        """Row positions of the participants of these territories, in table order."""
        parts = [self.by_territory[t] for t in sorted(set(territory_ids)) if t in self.by_territory]
        if not parts:
            return np.zeros(0, dtype=np.intp)
        return np.sort(np.concatenate(parts))


def _padded(rows: list[list[int]]) -> np.ndarray:
    width = max((len(row) for row in rows), default=0) or 1
    matrix = np.full((len(rows), width), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        if row:
            matrix[i, : len(row)] = row
    return matrix
