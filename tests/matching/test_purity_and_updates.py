"""The engine imports neither Flask nor SQLAlchemy; the registry and index updates as before."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from referral.matching.index import MatchingIndex
from referral.matching.registry import FIELD_CODES, OPERATOR_CODES, validate_criterion
from tests.matching.factories import opportunity, participant, reference


def test_the_engine_imports_neither_flask_nor_sqlalchemy():
    # Every module of the package (the benchmarks and their baselines live in referral/bench/).
    code = (
        "import importlib, pkgutil, sys, referral.matching as engine;"
        "[importlib.import_module(f'referral.matching.{m.name}')"
        " for m in pkgutil.iter_modules(engine.__path__)];"
        "print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_the_registry_still_validates_criteria_as_before():
    assert "has_need" in FIELD_CODES
    assert set(OPERATOR_CODES) == {"eq", "in", "not_in", "gte", "lte", "between", "has"}
    assert validate_criterion("age", "gte", 18, {}) == []
    assert validate_criterion("age", "between", [30, 18], {}) == ["« Âge » : le minimum dépasse le maximum."]
    assert validate_criterion("housing_status", "in", ["rue"], {"housing_status": frozenset({"rue"})}) == []


def test_an_updated_index_rebuilds_only_the_territories_concerned():
    lyon = opportunity(id=1, territory_ids={1})
    paris = opportunity(id=2, territory_ids={2})
    index = MatchingIndex([lyon, paris], reference())
    changed = index.updated(upserted=[opportunity(id=1, territory_ids={1}, places_left=0, waitlist=False)])
    assert changed.territories[2] is index.territories[2]
    assert changed.match(participant(), date(2026, 11, 23)).eligible_ids == []
    assert index.match(participant(), date(2026, 11, 23)).eligible_ids == [1]
    removed = index.updated(removed_ids=[1])
    assert 1 not in removed.territories
    moved = index.updated(upserted=[opportunity(id=2, territory_ids={1})])
    assert moved.match(participant(), date(2026, 11, 23)).eligible_ids == [1, 2]
    assert 2 not in moved.territories


def test_new_figures_keep_the_compiled_criteria_but_new_criteria_do_not():
    from tests.matching.factories import criterion

    six_months = criterion("months_in_programme", "gte", 6)
    index = MatchingIndex([opportunity(id=1, criteria=[six_months]), opportunity(id=2)], reference())
    today = date(2026, 11, 23)
    fuller = index.updated(
        upserted=[opportunity(id=1, criteria=[six_months], places_left=1, recent_referrals=9)]
    )
    assert fuller.territories[1].table is index.territories[1].table  # not compiled again
    (proposal,) = [p for p in fuller.match(participant(), today).eligible() if p.opportunity_id == 1]
    assert "nearly_full" in proposal.flags
    assert "9 orientations récentes pour 1 place libre" in " ".join(proposal.reasons)
    stricter = index.updated(
        upserted=[opportunity(id=1, criteria=[criterion("months_in_programme", "gte", 12)])]
    )
    assert stricter.territories[1].table is not index.territories[1].table
    assert stricter.match(participant(), today).eligible_ids == [2]
    # An opportunity that leaves a territory is gone from it, even with the same criteria.
    moved = index.updated(upserted=[opportunity(id=2, territory_ids={2})])
    assert moved.match(participant(), today).eligible_ids == [1]
    assert index.match(participant(), today).eligible_ids == [1, 2]  # the old index is untouched
