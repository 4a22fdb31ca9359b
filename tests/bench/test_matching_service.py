"""`referral bench matching` part (b): the service call with the database, on a tiny scale.

Timings are not asserted (they belong to the benchmark); what it writes is: the calls it made,
the figures it fills in beside the engine's, the targets read from them, and the dataset it
loads into the database, whole.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from referral.bench import matching_service as bench
from referral.bench import synthetic
from referral.cases.models import Contract, Need, Participant
from referral.db import Database, make_engine
from referral.partners.models import Criterion, Opportunity
from referral.referrals import matching_index as proposals
from referral.schema import upgrade
from referral.territories.models import Structure, Territory, User

FIGURES = {
    "load_seconds",
    "index_build_seconds",
    "median_ms",
    "p95_ms",
    "calls",
    "index_refresh_one_offer_seconds",
    "index_hourly_refresh_seconds",
}


def test_service_bench_writes_its_figures_beside_the_engine_ones(tmp_path, monkeypatch) -> None:
    output = tmp_path / "matching.json"
    output.write_text(json.dumps({"targets": {"one_participant_median_ms": {"met": True}}}))
    monkeypatch.setattr(bench, "SAMPLE_CALLS", 20)
    lines: list[str] = []

    results = bench.run_service(output, scale=0.002, seed=7, echo=lines.append)

    assert json.loads(output.read_text()) == results
    assert results["targets"]["one_participant_median_ms"] == {"met": True}  # kept, not overwritten
    sqlite = results["service_call_with_database"]["sqlite"]
    assert sqlite["calls"] == 20
    assert 0 < sqlite["median_ms"] <= sqlite["p95_ms"]
    # Every figure is written, and only these; PostgreSQL's too when the server was reachable.
    databases = set(results["service_call_with_database"]) - {"what"}
    assert "sqlite" in databases <= {"sqlite", "postgresql"}
    for name in databases:
        figures = results["service_call_with_database"][name]
        assert set(figures) == FIGURES
        assert figures["calls"] == 20
        assert all(isinstance(figures[key], float) for key in FIGURES - {"calls"})
    target = results["targets"]["service_call_sqlite_p95_ms"]
    assert target["value"] == sqlite["p95_ms"]
    assert target["met"] is (sqlite["p95_ms"] <= 5)
    postgresql = results["targets"]["service_call_postgresql_p95_ms"]
    if "postgresql" in databases:
        p95 = results["service_call_with_database"]["postgresql"]["p95_ms"]
        assert postgresql == {"target": "<= 10", "value": p95, "met": p95 <= 10}
    else:
        assert postgresql == {"target": "<= 10", "value": None, "met": None}
    assert any("sqlite" in line and "p95" in line for line in lines)
    proposals.forget_index()


def test_the_generated_dataset_is_loaded_whole(tmp_path) -> None:
    dataset = synthetic.generate(0.002, seed=7)
    sampled = {person.structure_id for person in dataset.participants[:5]}
    database = Database(make_engine(f"sqlite:///{tmp_path}/bench.sqlite3"))
    try:
        upgrade(database.engine)
        cips = bench.load(database, dataset, sampled)
        with database.atomic() as session:

            def count(model: type) -> int:
                return session.scalar(select(func.count()).select_from(model))

            assert count(Territory) == len(dataset.territories)
            assert count(Structure) == len(dataset.structures)
            assert count(Participant) == len(dataset.participants)
            assert count(Need) == sum(len(person.needs) for person in dataset.participants)
            assert count(Contract) == sum(1 for person in dataset.participants if person.weekly_hours)
            assert count(Opportunity) == len(dataset.opportunities)
            assert count(Criterion) == sum(len(opportunity.criteria) for opportunity in dataset.opportunities)
            assert set(cips) == sampled
            users = session.scalars(select(User).where(User.id.in_(cips.values())))
            assert {user.structure_id: user.id for user in users} == cips
    finally:
        database.dispose()
