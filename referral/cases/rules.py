"""The programme's rules on a path, as plain functions of dates and contracts (DESIGN §4).

Pure: no session, no Flask. The services call them before writing, and the pages use them to
show the path's end and the next decision due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

STANDARD_PATH_MONTHS = 24
CONVERGENCE_MAX_MONTHS = 60
RENEWAL_MONTHS = 12
MAX_WEEKLY_HOURS = 35.0
PHC_MIN_HOURS = 4.0
PHC_MAX_HOURS = 20.0
FOLLOW_UP_MONTHS = (6, 12)
INSERTION_KINDS = frozenset({"cddi", "cddi_cvg", "cddi_phc"})
# How long a record is kept once the accompaniment has ended: after the exit and the last thing
# written on the record, whichever is later (« durée de conservation »). A product choice to be
# confirmed by the partnership's data protection officer against the CNIL's reference framework
# for social accompaniment; the programme's documents set none.
RETENTION_YEARS = 2


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is before a month has passed)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class Renewal:
    granted: bool
    valid_until: date | None


@dataclass(frozen=True)
class PathDates:
    """Where a path stands: its authorised end and, for Convergence, the next decision due."""

    entered_on: date
    authorised_end: date
    hard_limit: date  # five years for Convergence, the standard 24 months otherwise
    next_decision_due: date | None


def path_dates(programme: str, entered_on: date, renewals: Iterable[Renewal]) -> PathDates:
    """24 months for everyone; a Convergence path is then extended a year at a time by granted
    renewals, never beyond five years."""
    standard_end = add_months(entered_on, STANDARD_PATH_MONTHS) - timedelta(days=1)
    if programme != "CVG":
        return PathDates(entered_on, standard_end, standard_end, None)
    hard_limit = add_months(entered_on, CONVERGENCE_MAX_MONTHS) - timedelta(days=1)
    end = standard_end
    for renewal in renewals:
        if renewal.granted and renewal.valid_until is not None:
            end = max(end, min(renewal.valid_until, hard_limit))
    next_due = end if end < hard_limit else None
    return PathDates(entered_on, end, hard_limit, next_due)


def next_renewal_end(path: PathDates) -> date:
    """What a granted renewal extends the path to: one more year, within the five-year limit."""
    return min(
        add_months(path.authorised_end + timedelta(days=1), RENEWAL_MONTHS) - timedelta(days=1),
        path.hard_limit,
    )


@dataclass(frozen=True)
class ContractSpan:
    kind: str
    weekly_hours: float
    starts_on: date
    ends_on: date | None

    def overlaps(self, other: ContractSpan) -> bool:
        self_end = self.ends_on or date.max
        other_end = other.ends_on or date.max
        return self.starts_on <= other_end and other.starts_on <= self_end


def contract_problems(
    new: ContractSpan, existing: Sequence[ContractSpan], path: PathDates
) -> dict[str, list[str]]:
    """French reasons why `new` breaks a rule, by field (empty when it may be recorded).

    `existing` are the person's other contracts, after any automatic end of an open contract of
    the same kind (see `cases.services.add_contract`).
    """
    problems: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if new.ends_on is not None and new.ends_on < new.starts_on:
        refuse("ends_on", "La fin du contrat précède son début.")
    if new.starts_on < path.entered_on and new.kind in INSERTION_KINDS:
        refuse(
            "starts_on", f"Le contrat commence avant l'entrée dans le parcours ({path.entered_on:%d/%m/%Y})."
        )
    if new.weekly_hours <= 0 or new.weekly_hours > MAX_WEEKLY_HOURS:
        refuse("weekly_hours", "La durée hebdomadaire doit être comprise entre 0 et 35 heures.")
    if new.kind == "cddi_phc":
        if not PHC_MIN_HOURS <= new.weekly_hours <= PHC_MAX_HOURS:
            refuse("weekly_hours", "Un contrat Premières Heures compte de 4 à 20 heures par semaine.")
        earlier = [c for c in existing if c.kind == "cddi_phc" and c.starts_on < new.starts_on]
        if earlier:
            previous = max(earlier, key=lambda c: c.starts_on)
            if new.weekly_hours < previous.weekly_hours:
                refuse(
                    "weekly_hours",
                    f"Premières Heures est progressif : {new.weekly_hours:g} h après "
                    f"{previous.weekly_hours:g} h n'est pas une progression.",
                )
    if new.kind in INSERTION_KINDS:
        last_day = new.ends_on or new.starts_on
        if last_day > path.authorised_end:
            refuse(
                "ends_on" if new.ends_on else "starts_on",
                f"Le contrat dépasse la fin de parcours autorisée ({path.authorised_end:%d/%m/%Y}). "
                "Un renouvellement doit d'abord être accordé par la commission.",
            )
    for other in existing:
        if other.kind == new.kind and other.overlaps(new):
            end = f"{other.ends_on:%d/%m/%Y}" if other.ends_on else "sans fin"
            refuse(
                "starts_on",
                f"Ce contrat chevauche un autre contrat du même type ({other.starts_on:%d/%m/%Y} – {end}).",
            )
            break
    peak = _peak_weekly_hours([*existing, new], new)
    if peak > MAX_WEEKLY_HOURS:
        refuse(
            "weekly_hours",
            f"Le cumul des contrats (CDI et CDDI) atteindrait {peak:g} h par semaine : 35 h au plus.",
        )
    return problems


def _peak_weekly_hours(contracts: Sequence[ContractSpan], window: ContractSpan) -> float:
    """Greatest total of weekly hours on any day of `window` (totals only change at a start)."""
    candidates = {window.starts_on} | {c.starts_on for c in contracts if window.overlaps(c)}
    peak = 0.0
    for day in candidates:
        point = ContractSpan("", 0, day, day)
        if not window.overlaps(point):
            continue
        peak = max(peak, sum(c.weekly_hours for c in contracts if c.overlaps(point)))
    return peak


def retention_ends_on(exited_on: date, last_activity: date | None) -> date:
    """The day a record may be anonymised: `RETENTION_YEARS` after the exit, or after the last
    activity on the record when the accompaniment went on after the exit."""
    start = max(exited_on, last_activity) if last_activity is not None else exited_on
    return add_months(start, 12 * RETENTION_YEARS)
