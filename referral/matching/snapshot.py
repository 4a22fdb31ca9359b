"""The engine's input: plain, frozen pictures of the database rows it needs (« instantanés »).

The loader in `referral/referrals/` builds these from the database; tests and the benchmark build
them directly. Nothing here knows about Flask or SQLAlchemy, so the engine is tested and measured
without either, and a snapshot can be shared between threads (every one is immutable).

Codes are the `seeds/` reference codes (``rue``, ``titre_valide``, ``a2``, ``logement.social``…).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple

from referral.matching.registry import FIELDS, operators_for

Scalar = str | int | float | bool
CriterionValue = Scalar | tuple[Scalar, ...]


class OpenNeed(NamedTuple):
    """An open difficulty of the participant (« frein ouvert »): priority 1 is the most urgent."""

    domain: str
    subtype: str | None = None
    priority: int = 2
    # The record's need id, when the snapshot comes from the database (the API names it in
    # `answers_need`); engines never read it.
    id: int | None = None


class CriterionSnapshot(NamedTuple):
    """One orientation criterion ``{field, op, value, hard, weight}`` (« critère d'orientation »).

    `hard` criteria decide eligibility; soft ones only add to the score, in proportion to their
    `weight` (0–10, counted to the thousandth so that sums are exact and every implementation
    ranks ties the same way).
    """

    field: str
    op: str
    value: CriterionValue
    hard: bool = True
    weight: float = 1.0

    @classmethod
    def of(cls, field: str, op: str, value: Any, hard: bool = True, weight: float = 1.0) -> CriterionSnapshot:
        """A criterion from database or JSON values: lists become tuples, so snapshots stay hashable."""
        if isinstance(value, list | tuple):
            value = tuple(value)
        spec = FIELDS.get(field)
        if spec is None:
            raise ValueError(f"unknown criterion field {field!r}")
        if op not in operators_for(field):
            raise ValueError(f"operator {op!r} does not apply to field {field!r}")
        return cls(field, op, value, bool(hard), float(weight))


@dataclass(frozen=True, slots=True)
class ParticipantSnapshot:
    """What the engine knows of one salarié·e, as of the day the loader read it.

    `None` means « not recorded »: a hard criterion on a missing value fails with « information
    manquante », never silently passes. `needs` holds OPEN needs only (in progress or resolved
    needs are not difficulties to orient for).
    """

    id: int
    structure_id: int
    territory_id: int
    programme: str
    entered_on: date
    birth_date: date
    weekly_hours: float | None = None
    residence_status: str | None = None
    residence_permit_expires_on: date | None = None
    housing_status: str | None = None
    health_coverage: str | None = None
    household_size: int | None = None
    children: int | None = None
    monthly_resources: int | None = None
    language_level: str | None = None
    driving_licence: bool | None = None
    rqth: bool | None = None
    needs: tuple[OpenNeed, ...] = ()

    def __post_init__(self) -> None:
        needs = tuple(need if isinstance(need, OpenNeed) else OpenNeed(*need) for need in self.needs)
        for need in needs:
            if not 1 <= need.priority <= 3:
                raise ValueError(f"need priority must be 1–3, got {need.priority}")
        object.__setattr__(self, "needs", needs)


def _criteria(items: Iterable[Any]) -> tuple[CriterionSnapshot, ...]:
    result = []
    for item in items:
        if isinstance(item, CriterionSnapshot):
            result.append(item)
        elif isinstance(item, Mapping):
            result.append(
                CriterionSnapshot.of(
                    item["field"], item["op"], item["value"], item.get("hard", True), item.get("weight", 1.0)
                )
            )
        else:
            result.append(CriterionSnapshot.of(*item))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class OpportunitySnapshot:
    """One partnership opportunity as the engine sees it (« opportunité »).

    `territory_ids` are the territories it is offered in: the loader resolves a national
    opportunity (no territory of its own) to every territory where its partner is deployed.
    `recent_referrals` counts referrals made in the last weeks (the loader chooses the window);
    with `places_left` it drives the fair-share factor. `partner_answer_rate` is the share of
    past referrals the partner answered, `None` when it has none yet (scored as neutral).
    `waitlist` says whether the opportunity still takes referrals once full (the lifecycle's
    « liste d'attente »); `valid_from`/`valid_until` bound the period it is open.
    """

    id: int
    title: str
    partner_id: int
    partner_name: str
    territory_ids: frozenset[int]
    domain: str
    subtypes: tuple[str, ...] = ()
    criteria: tuple[CriterionSnapshot, ...] = ()
    capacity: int = 1
    places_left: int = 1
    published_on: date | None = None
    status: str = "published"
    tags: tuple[str, ...] = ()
    recent_referrals: int = 0
    partner_answer_rate: float | None = None
    waitlist: bool = True
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "territory_ids", frozenset(self.territory_ids))
        object.__setattr__(self, "subtypes", tuple(self.subtypes))
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "criteria", _criteria(self.criteria))
        rate = self.partner_answer_rate
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"partner_answer_rate must be within 0–1, got {rate}")


@dataclass(frozen=True, slots=True)
class ReferralHistory:
    """A participant's past with the network: where they were already referred, who refused them.

    `referred_opportunity_ids` holds every opportunity with a referral of this person, live or
    finished; `refusals` the partners that refused them, with the day (« refus du partenaire »).
    """

    participant_id: int
    referred_opportunity_ids: frozenset[int] = frozenset()
    refusals: tuple[tuple[int, date], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "referred_opportunity_ids", frozenset(self.referred_opportunity_ids))
        object.__setattr__(self, "refusals", tuple((int(p), d) for p, d in self.refusals))


NO_HISTORY = ReferralHistory(participant_id=0)


def _frozen(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping))


DEFAULT_PROGRAMME_LABELS = {"CVG": "Convergence (CVG)", "PHC": "Premières Heures en Chantier (PHC)"}


@dataclass(frozen=True)
class ReferenceTables:
    """The reference lists the engine reads (« listes de référence »), from `seeds/reference/`.

    `labels` maps a list name (``housing_status``, ``health_coverage``, ``residence_status``,
    ``language_level``, ``programme``, ``territory``, ``need`` for domains and subtypes…) to
    code → French label, for the explanations. `territory_slugs` turns a participant's
    territory id into the code that ``territory`` criteria name.
    """

    precarity: Mapping[str, int] = field(default_factory=dict)
    covered: Mapping[str, bool] = field(default_factory=dict)
    language_rank: Mapping[str, int] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    territory_slugs: Mapping[int, str] = field(default_factory=dict)
    may_work: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = {name: _frozen(codes) for name, codes in self.labels.items()}
        labels.setdefault("programme", _frozen(DEFAULT_PROGRAMME_LABELS))
        for name in ("precarity", "covered", "language_rank", "territory_slugs", "may_work"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "labels", _frozen(labels))

    def label(self, list_name: str, code: object) -> str:
        """The French label of `code` in `list_name`, or the code itself when unknown."""
        return self.labels.get(list_name, {}).get(code, str(code))  # type: ignore[call-overload]

    @classmethod
    def from_seeds(
        cls,
        lists: Mapping[str, Any],
        domains: Iterable[Mapping[str, Any]],
        territories: Iterable[tuple[int, str, str]] = (),
    ) -> ReferenceTables:
        """Tables from the parsed `seeds/reference/lists.toml` and `domains.toml` (``[[domain]]``).

        `territories` are ``(id, slug, name)`` triples. Used by tests and the benchmark; the loader
        may build the tables from the database the same way.
        """

        def codes(name: str) -> list[Mapping[str, Any]]:
            return list(lists.get(name, ()))

        need_labels: dict[str, str] = {}
        for domain in domains:
            need_labels[domain["code"]] = domain["label"]
            for subtype in domain.get("subtype", ()):
                need_labels[subtype["code"]] = subtype["label"]
        territories = list(territories)
        labels = {
            name: {item["code"]: item["label"] for item in codes(name)}
            for name in ("housing_status", "health_coverage", "residence_status", "language_level")
        }
        labels["need"] = need_labels
        labels["territory"] = {slug: name for _, slug, name in territories}
        return cls(
            precarity={item["code"]: int(item["precarity"]) for item in codes("housing_status")},
            covered={item["code"]: bool(item["covered"]) for item in codes("health_coverage")},
            language_rank={item["code"]: int(item["rank"]) for item in codes("language_level")},
            may_work={item["code"]: bool(item["may_work"]) for item in codes("residence_status")},
            labels=labels,
            territory_slugs={tid: slug for tid, slug, _ in territories},
        )
