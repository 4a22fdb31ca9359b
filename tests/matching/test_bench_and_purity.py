"""The benchmark runs end to end at a tiny scale; the engine imports neither Flask nor SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from referral.matching import bench
from referral.matching.index import MatchingIndex
from referral.matching.registry import FIELD_CODES, OPERATOR_CODES, validate_criterion
from referral.matching.synthetic import generate
from tests.matching.factories import opportunity, participant, reference


def test_bench_run_writes_its_figures(tmp_path):
    lines: list[str] = []
    output = tmp_path / "matching.json"
    results = bench.run(output, scale=0.001, seed=3, echo=lines.append)
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(results))
    for key in (
        "dataset",
        "setup",
        "one_participant",
        "service_call_with_database",
        "national_batch",
        "top10_check",
        "targets",
    ):
        assert key in written
    for key in ("engine", "engine_with_explanations_top10", "numpy_reference", "double_loop"):
        assert {"median_ms", "p95_ms"} <= set(written["one_participant"][key])
    assert {"engine_s", "numpy_reference_s", "double_loop_s", "ratio_engine_to_numpy"} <= set(
        written["national_batch"]
    )
    # (b) is a slot for the service benchmark, never a made-up figure.
    assert written["service_call_with_database"]["sqlite"] is None
    assert written["service_call_with_database"]["postgresql"] is None
    assert written["top10_check"]["identical"] is True
    assert any("(a)" in line for line in lines)


def test_generated_data_is_deterministic():
    first, second = generate(0.002, seed=9), generate(0.002, seed=9)
    assert first.participants == second.participants
    assert first.opportunities == second.opportunities
    assert generate(0.002, seed=10).participants != first.participants


def test_the_engine_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, referral.matching.bench, referral.matching.reverse, referral.matching.batch;"
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
    # An offer that leaves a territory is gone from it, even with the same criteria.
    moved = index.updated(upserted=[opportunity(id=2, territory_ids={2})])
    assert moved.match(participant(), today).eligible_ids == [1]
    assert index.match(participant(), today).eligible_ids == [1, 2]  # the old index is untouched
