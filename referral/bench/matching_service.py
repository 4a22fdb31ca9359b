"""Benchmark (b) of `referral bench matching`: the proposals *service* call with the database.

The engine's own benchmark (`bench/matching.py`) times the pure engine and its baselines; this
one loads the same generated national dataset (`synthetic.generate`) into real databases — a
temporary SQLite file and, when one is given (`referral bench matching --database-url`, or
`BENCH_POSTGRES_URL`), a temporary schema of that PostgreSQL database — and times what a CIP's
request does: read the person's record (contracts, needs, health), reuse the compiled index of
opportunities (built once, timed apart), match, read the referral history, word the proposals
shown (`PROPOSALS_SHOWN` eligible and near misses, the API's default), log the read in the
audit log, commit. Then what the request that follows a change pays: the index refreshed after
one opportunity edited elsewhere, and at the turn of the hour. It fills the
``service_call_with_database`` slot and the two service targets of the JSON file the engine's
benchmark wrote, keeping everything else in it.

The one bench that needs the database: it writes the dataset with SQLAlchemy Core inserts and
reads through `referral.referrals.matching_index`, as the web does.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from referral.audit import services as audit
from referral.bench import synthetic
from referral.cases.models import Contract, HealthRecord, Need, Participant
from referral.db import Database, make_engine
from referral.partners.models import Criterion, Opportunity, OpportunityStatus, Partner, PartnerTerritory
from referral.referrals import matching_index as proposals
from referral.schema import upgrade
from referral.seeding import seed_reference
from referral.territories.models import Structure, Territory, User

SAMPLE_CALLS = 400
CHUNK = 5000
# The PostgreSQL database the bench may use, when the command line names none. Formerly the local
# test server's `test` database by default: now only when asked (`--database-url`), documented.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL")


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def load(database: Database, dataset: synthetic.Dataset, sampled: set[int]) -> dict[int, int]:
    """Write the dataset into `database`; return a CIP user id per sampled structure."""
    with database.atomic() as session:
        seed_reference(session)
        conn = session.connection()
        conn.execute(
            insert(Territory),
            [
                {"id": tid, "slug": slug, "name": name, "region": "France", "departments": []}
                for tid, slug, name in dataset.territories
            ],
        )
        conn.execute(
            insert(Structure),
            [
                {
                    "id": sid,
                    "key": f"s{sid}",
                    "name": f"Structure {sid}",
                    "town": "Ville",
                    "region": "France",
                    "territory_id": tid,
                    "carries_cvg": True,
                    "carries_phc": True,
                }
                for sid, tid in dataset.structures.items()
            ],
        )
        cips = {}
        for sid in sorted(sampled):
            cips[sid] = conn.execute(
                insert(User).returning(User.id),
                {
                    "email": f"cip{sid}@bench.test",
                    "full_name": f"CIP {sid}",
                    "role": "cip",
                    "structure_id": sid,
                },
            ).scalar_one()
        partners: dict[int, tuple[str, frozenset[int]]] = {}
        for opportunity in dataset.opportunities:
            partners.setdefault(opportunity.partner_id, (opportunity.partner_name, opportunity.territory_ids))
        conn.execute(
            insert(Partner),
            [{"id": pid, "name": name, "kind": "association"} for pid, (name, _t) in partners.items()],
        )
        links = {
            (pid, tid)
            for opportunity in dataset.opportunities
            for pid in [opportunity.partner_id]
            for tid in opportunity.territory_ids
        }
        for rows in _chunks(
            [{"partner_id": pid, "territory_id": tid, "status": "deployed"} for pid, tid in sorted(links)]
        ):
            conn.execute(insert(PartnerTerritory), rows)
        opportunities, criteria = [], []
        for opportunity in dataset.opportunities:
            national = len(opportunity.territory_ids) > 1
            # Generated opportunities that are no longer open may end before their start date would
            # allow; the database refuses that, so such an opportunity keeps only its end.
            valid_from = opportunity.valid_from
            if valid_from and opportunity.valid_until and opportunity.valid_until < valid_from:
                valid_from = None
            opportunities.append(
                {
                    "id": opportunity.id,
                    "partner_id": opportunity.partner_id,
                    "title": opportunity.title,
                    "territory_id": None if national else next(iter(opportunity.territory_ids)),
                    "domain_code": opportunity.domain,
                    "capacity": opportunity.capacity,
                    "places_taken": max(0, opportunity.capacity - max(opportunity.places_left, 0)),
                    "status": opportunity.status,
                    "valid_from": valid_from,
                    "valid_until": opportunity.valid_until,
                    "documents_required": [],
                    "shared_categories": [],
                    "tags": list(opportunity.tags),
                }
            )
            criteria += [
                {
                    "opportunity_id": opportunity.id,
                    "position": i,
                    "field": c.field,
                    "op": c.op,
                    "value": c.value,
                    "hard": c.hard,
                    "weight": c.weight,
                }
                for i, c in enumerate(opportunity.criteria)
            ]
        for rows in _chunks(opportunities):
            conn.execute(insert(Opportunity), rows)
        for rows in _chunks(criteria):
            conn.execute(insert(Criterion), rows)
        people, needs, contracts, health = [], [], [], []
        for person in dataset.participants:
            household = person.household_size or 1
            people.append(
                {
                    "id": person.id,
                    "structure_id": person.structure_id,
                    "first_name": "Prénom",
                    "last_name": f"Nom{person.id}",
                    "birth_date": person.birth_date,
                    "programme": person.programme,
                    "entered_on": person.entered_on,
                    "housing_status": person.housing_status or "rue",
                    "health_coverage": person.health_coverage or "aucune",
                    "residence_status": person.residence_status or "francaise",
                    "residence_permit_expires_on": person.residence_permit_expires_on,
                    "language_level": person.language_level,
                    "driving_licence": bool(person.driving_licence),
                    "household_size": household,
                    "children": min(person.children or 0, household - 1),
                    "monthly_resources": person.monthly_resources,
                }
            )
            needs += [
                {
                    "participant_id": person.id,
                    "domain_code": n.domain,
                    "subtype_code": n.subtype,
                    "priority": n.priority,
                    "opened_on": person.entered_on,
                }
                for n in person.needs
            ]
            if person.weekly_hours:
                kind = "cddi_phc" if person.programme == "PHC" and 4 <= person.weekly_hours <= 20 else "cddi"
                contracts.append(
                    {
                        "participant_id": person.id,
                        "kind": kind,
                        "weekly_hours": person.weekly_hours,
                        "starts_on": person.entered_on,
                    }
                )
            if person.rqth is not None:
                health.append({"participant_id": person.id, "rqth": person.rqth})
        for table, rows in (
            (Participant, people),
            (Need, needs),
            (Contract, contracts),
            (HealthRecord, health),
        ):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    return cips


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "calls": len(ordered),
    }


def measure(
    database: Database, dataset: synthetic.Dataset, seed: int, echo: Callable[[str], Any]
) -> dict[str, Any]:
    rng = random.Random(seed)
    sample = rng.sample(list(dataset.participants), min(SAMPLE_CALLS, len(dataset.participants)))
    started = time.perf_counter()
    cips = load(database, dataset, {p.structure_id for p in sample})
    loaded = time.perf_counter() - started
    echo(f"  données chargées en {loaded:.1f} s")
    proposals.forget_index()
    today = dataset.today
    with database.atomic() as session:
        started = time.perf_counter()
        proposals.matching_index(session, today)
        index_build = time.perf_counter() - started
    timings = []
    for person in sample:
        # The actor is read apart, as the request's authentication does before the view runs;
        # the timed call ends with the commit of the audit entry, as the request does.
        with database.atomic() as session:
            actor = session.get_one(User, cips[person.structure_id])
            session.expunge(actor)
        started = time.perf_counter()
        with database.atomic() as session:
            ranked = proposals.proposals(session, actor, person.id, today=today)
            ranked.to_dict(limit=proposals.PROPOSALS_SHOWN)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "load_seconds": round(loaded, 1),
        "index_build_seconds": round(index_build, 3),
        **_percentiles(timings),
        **_refresh_timings(database, today),
    }


def _refresh_timings(database: Database, today: date) -> dict[str, float]:
    """What a request pays when the index must follow a change: one opportunity edited by a CP (seen
    through the version key, as from another worker), and the hourly refresh of every figure."""
    with database.atomic() as session:
        opportunity_id = session.scalar(
            select(func.min(Opportunity.id)).where(
                Opportunity.status == OpportunityStatus.PUBLISHED, Opportunity.territory_id.is_not(None)
            )
        )
        session.execute(
            update(Opportunity)
            .where(Opportunity.id == opportunity_id)
            .values(title=Opportunity.title + " (modifiée)", version=Opportunity.version + 1),
            execution_options={"synchronize_session": False},
        )
    proposals.check_index_now()
    with database.atomic() as session:
        started = time.perf_counter()
        proposals.matching_index(session, today)
        one_opportunity = time.perf_counter() - started
    proposals.check_index_now(hour_turned=True)
    with database.atomic() as session:
        started = time.perf_counter()
        proposals.matching_index(session, today)
        hourly = time.perf_counter() - started
    return {
        "index_refresh_one_offer_seconds": round(one_opportunity, 3),
        "index_hourly_refresh_seconds": round(hourly, 3),
    }


def _databases(postgres_url: str | None) -> Iterator[tuple[str, Database]]:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(make_engine(f"sqlite:///{folder}/bench.sqlite3"))
        upgrade(database.engine)
        yield "sqlite", database
        database.dispose()
    if postgres_url is None:
        return
    try:
        admin = make_engine(postgres_url)
        schema = f"bench_{os.getpid()}"
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the figure stays empty, said so in the JSON
        return
    database = Database(make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"}))
    try:
        upgrade(database.engine)
        yield "postgresql", database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def run_service(
    output: Path,
    *,
    scale: float,
    seed: int,
    echo: Callable[[str], Any] = print,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Measure (b) on both databases and write it into the JSON file at `output`."""
    audit.install()
    dataset = synthetic.generate(scale, seed)
    figures: dict[str, Any] = {}
    for name, database in _databases(database_url or POSTGRES_URL):
        echo(f"(b) appel du service avec la base ({name})…")
        figures[name] = measure(database, dataset, seed, echo)
    results = json.loads(output.read_text()) if output.exists() else {}
    results["service_call_with_database"] = {
        "what": "GET /participants/{id}/proposals minus HTTP: record read, cached index, match, history, "
        "audit, commit; median and p95 over sampled participants, per database; then what the request "
        "that follows a change pays: index built from scratch, refreshed after one offer edited "
        "elsewhere, refreshed at the turn of the hour",
        **figures,
    }
    targets = results.setdefault("targets", {})
    for name, key, limit in (
        ("sqlite", "service_call_sqlite_p95_ms", 5),
        ("postgresql", "service_call_postgresql_p95_ms", 10),
    ):
        value = figures.get(name, {}).get("p95_ms")
        targets[key] = {
            "target": f"<= {limit}",
            "value": value,
            "met": None if value is None else value <= limit,
        }
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    for name, figure in figures.items():
        echo(
            f"  {name:<10} p50 {figure['median_ms']:>7.2f} ms   p95 {figure['p95_ms']:>7.2f} ms   "
            f"(chargement {figure['load_seconds']} s)"
        )
        echo(
            f"  {'':<10} index construit en {figure['index_build_seconds']} s, mis à jour en "
            f"{figure['index_refresh_one_offer_seconds']} s après une offre modifiée, "
            f"en {figure['index_hourly_refresh_seconds']} s au changement d'heure"
        )
    return results
