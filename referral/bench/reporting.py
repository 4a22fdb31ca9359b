"""`referral bench reporting`: the indicators (issue 17) at national scale, on SQLite and
PostgreSQL, against pandas on the same rows in the same run.

The national dataset (`synthetic.generate`: 100 territories, 4,000 structures, 150,000 people at
scale 1) and the paths drawn from it (`synthetic_reporting`: exits, follow-ups, hours, renewals,
referrals and their moves) are written into each database with Core inserts. Then, per database:

- the national report (every indicator, all territories, the year of the data's « today »),
  repeated, median — `indicators.compute`, exactly what the page and the exports call, its parts
  read by `parallel.READERS` connections at once (`reporting/parallel.py`; pandas uses one core);
- a territory's page for its coordinator, over sampled territories: the scope checked, the
  report, its protection and its pictures (`services.shown_report`), p50 and p95 — the page minus
  HTTP and the template — twice: the first views, with nothing kept (as after any change of the
  data: every territory computed and drawn), then the same territories again, as the worker's
  cache (`reporting/cache.py`) serves the next readers;

and pandas computing the same figures from the same rows held in DataFrames (loading them is not
timed), with a check that both agree on the key figures: once at the start, then once before each
run of a database's national report, the ratio taken against those paired runs (the machine's
load moves over a run of half an hour). Targets: SQL within 2× pandas for
the national report; a territory's page p95 ≤ 300 ms (first views and views again, each reported).

PostgreSQL is used when `--database-url` names one (a database of its own, e.g. ``createdb -h
127.0.0.1 -U postgres bench_reporting``): the bench writes into a fresh schema of it and drops the
schema at the end.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, text

from referral.bench import synthetic
from referral.bench.matching_service import load as load_base
from referral.bench.synthetic_reporting import PathRows, generate_paths
from referral.cases.models import Contract, Exit, FollowUp, RenewalDecision
from referral.db import Database, make_engine
from referral.referrals.models import Referral, ReferralTransition
from referral.reporting import cache as report_cache
from referral.reporting import indicators, parallel
from referral.reporting import services as reporting
from referral.reporting.context import Context, Period, Scope
from referral.reporting.definitions import (
    DAYS_PER_MONTH,
    DYNAMIC_FAMILIES,
    HOUSED_GROUPS,
    HOUSING_GROUP_OF,
    PATH_PAST_DAYS,
)
from referral.reporting.figures import Report, Stat, cell_value
from referral.schema import upgrade
from referral.territories.models import Territory, User

Echo = Callable[[str], Any]
NATIONAL_REPEATS = 3
TERRITORY_SAMPLES = 30
CHUNK = 5000
TARGET_RATIO = 2.0
TARGET_PAGE_P95_MS = 300.0


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def load(database: Database, dataset: synthetic.Dataset, paths: PathRows) -> dict[int, int]:
    """Write everything; return a coordinator's user id per territory."""
    load_base(database, dataset, set())
    with database.atomic() as session:
        conn = session.connection()
        for table, rows in (
            (Exit, paths.exits),
            (FollowUp, paths.follow_ups),
            (Contract, paths.contracts),
            (RenewalDecision, paths.renewals),
            (Referral, paths.referrals),
            (ReferralTransition, paths.transitions),
        ):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
        coordinators = {}
        for territory_id, slug, _name in dataset.territories:
            coordinators[territory_id] = conn.execute(
                insert(User).returning(User.id),
                {
                    "email": f"coordination.{slug}@bench.test",
                    "full_name": f"Coordination {slug}",
                    "role": "coordinator",
                    "territory_id": territory_id,
                },
            ).scalar_one()
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return coordinators


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
        "calls": len(ordered),
    }


def key_figures(report: Report) -> dict[str, Any]:
    """The figures both computations must agree on."""

    def v(table: str, row: str, column: str) -> Any:
        cell = report.table(table).cell(row, column)
        value = cell.value if isinstance(cell, Stat) else cell_value(cell)
        return round(value, 3) if isinstance(value, float) else value

    return {
        "people": v("activity", "people", "total"),
        "paths": v("activity", "paths", "total"),
        "entries": v("activity", "entries", "total"),
        "exits": v("activity", "exits", "total"),
        "past_24_months": v("activity", "past_24_months", "total"),
        "median_months": v("activity", "median_months", "total"),
        "renewals_granted": v("activity", "renewals_granted", "total"),
        "dynamic_exits": v("exits_by_family", "dynamic", "exits"),
        "housed_at_exit": v("housing_share", "exit", "housed"),
        "better_health_care": v("health", "better_health_care", "people"),
        "more_rights": v("health", "more_rights", "people"),
        "phc_paths": v("phc_summary", "paths", "value"),
        "phc_reached": v("phc_summary", "reached", "value"),
        "phc_median_weeks": v("phc_summary", "median_weeks", "value"),
        "follow_ups_due": v("follow_ups", "due", "total"),
        "follow_ups_done": v("follow_ups", "done", "total"),
        "follow_ups_late": v("follow_ups", "late", "total"),
        "referrals": v("referrals_by_domain", "total", "referrals"),
        "referrals_sent": v("referrals_by_domain", "total", "sent"),
        "referrals_accepted": v("referrals_by_domain", "total", "accepted"),
        "answer_days_median": v("referrals_by_domain", "total", "answer_days"),
        "open_needs": v("needs_without_answer", "total", "open"),
        "needs_without_referral": v("needs_without_answer", "total", "without_referral"),
        "needs_without_offer": v("needs_without_answer", "total", "without_offer"),
    }


# ---------------------------------------------------------------------------------------------
# pandas: the same figures from the same rows, in memory


def frames(dataset: synthetic.Dataset, paths: PathRows) -> dict[str, pd.DataFrame]:
    offers = {o.id: o for o in dataset.opportunities}
    people = pd.DataFrame(
        {
            "id": [p.id for p in dataset.participants],
            "structure_id": [p.structure_id for p in dataset.participants],
            "territory_id": [p.territory_id for p in dataset.participants],
            "programme": [p.programme for p in dataset.participants],
            "entered_on": pd.to_datetime([p.entered_on for p in dataset.participants]),
            # The bench's people have distinct names (« Prénom », « Nom<id> »).
            "person": [f"prénom|nom{p.id}|{p.birth_date}" for p in dataset.participants],
            "housing": [p.housing_status or "rue" for p in dataset.participants],
            "coverage": [p.health_coverage or "aucune" for p in dataset.participants],
            "doctor": [False if p.rqth is not None else None for p in dataset.participants],
        }
    )
    # The first contract as the base loader writes it (`matching_service.load`), then the rest.
    first = [
        {
            "participant_id": p.id,
            "kind": "cddi_phc" if p.programme == "PHC" and 4 <= p.weekly_hours <= 20 else "cddi",
            "weekly_hours": p.weekly_hours,
            "starts_on": p.entered_on,
        }
        for p in dataset.participants
        if p.weekly_hours
    ]
    contracts = pd.DataFrame(first + paths.contracts)
    contracts["starts_on"] = pd.to_datetime(contracts["starts_on"])
    exits = pd.DataFrame(paths.exits).drop(columns=["id"])
    exits["exited_on"] = pd.to_datetime(exits["exited_on"])
    exits["rights"] = exits["rights_opened"].map(len)
    follow_ups = pd.DataFrame(paths.follow_ups)
    for column in ("due_on", "done_on"):
        follow_ups[column] = pd.to_datetime(follow_ups[column])
    renewals = pd.DataFrame(paths.renewals)
    renewals["decided_on"] = pd.to_datetime(renewals["decided_on"])
    referrals = pd.DataFrame(paths.referrals)
    referrals["domain"] = referrals["opportunity_id"].map(lambda o: offers[o].domain)
    referrals["partner_id"] = referrals["opportunity_id"].map(lambda o: offers[o].partner_id)
    transitions = pd.DataFrame(paths.transitions)
    needs = pd.DataFrame(
        [{"participant_id": p.id, "domain": n.domain} for p in dataset.participants for n in p.needs]
    )
    # Where each domain has a published offer, as the service reads it: a local offer in its
    # territory; a national one (the loader writes an offer of several territories as national)
    # wherever its partner is deployed — every territory of any of that partner's offers.
    deployed: dict[int, set[int]] = {}
    for o in dataset.opportunities:
        deployed.setdefault(o.partner_id, set()).update(o.territory_ids)
    pairs: set[tuple[int, str]] = set()
    for o in dataset.opportunities:
        if o.status == "published":
            where = deployed[o.partner_id] if len(o.territory_ids) > 1 else o.territory_ids
            pairs.update((t, o.domain) for t in where)
    covered = pd.DataFrame(sorted(pairs), columns=["territory_id", "domain"])
    covered["covered"] = True
    return {
        "covered": covered,
        "people": people,
        "contracts": contracts,
        "exits": exits,
        "follow_ups": follow_ups,
        "renewals": renewals,
        "referrals": referrals,
        "transitions": transitions,
        "needs": needs,
    }


def pandas_figures(
    f: dict[str, pd.DataFrame], start: date, end: date, today: date, families: dict[str, str]
) -> dict[str, Any]:
    s, e, t = pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(today)
    people = f["people"].merge(f["exits"], how="left", left_on="id", right_on="participant_id")
    active = people[(people.entered_on <= e) & (people.exited_on.isna() | (people.exited_on >= s))]
    last_day = active.exited_on.where(active.exited_on < e, e)
    out: dict[str, Any] = {
        "people": int(active.person.nunique()),
        "paths": len(active),
        "entries": int(((active.entered_on >= s) & (active.entered_on <= e)).sum()),
    }
    left = people[(people.exited_on >= s) & (people.exited_on <= e)]
    out["exits"] = len(left)
    out["past_24_months"] = int(((last_day - active.entered_on).dt.days > PATH_PAST_DAYS).sum())
    lengths = (left.exited_on - left.entered_on).dt.days / DAYS_PER_MONTH
    out["median_months"] = round(float(lengths.median()), 3) if len(lengths) else None
    renewals = f["renewals"]
    out["renewals_granted"] = int(
        ((renewals.decided_on >= s) & (renewals.decided_on <= e) & (renewals.outcome == "granted")).sum()
    )
    out["dynamic_exits"] = int(left.exit_type.map(families).isin(DYNAMIC_FAMILIES).sum())
    out["housed_at_exit"] = int(left.housing_status.map(HOUSING_GROUP_OF).isin(HOUSED_GROUPS).sum())
    rank = {"aucune": 0, "ame": 1, "puma": 1, "css": 2}
    known = left.health_coverage.notna() | left.has_treating_doctor.notna()
    entry_rank = left.coverage.map(rank).fillna(0)
    exit_rank = left.health_coverage.map(rank)
    doctor_gained = (left.has_treating_doctor == True) & ~(left.doctor == True)  # noqa: E712 - three-valued
    better = known & ((exit_rank > entry_rank) | doctor_gained)
    more = known & ((left.rights > 0) | ((entry_rank == 0) & (exit_rank.fillna(0) > 0)))
    out["better_health_care"] = int(better.sum())
    out["more_rights"] = int(more.sum())
    # Premières Heures.
    phc = active[active.programme == "PHC"]
    c = f["contracts"]
    c = c[c.kind.isin(["cddi", "cddi_cvg", "cddi_phc"]) & (c.starts_on <= e)]
    reached = (
        c[(c.weekly_hours >= 20) | c.kind.isin(["cddi", "cddi_cvg"])]
        .groupby("participant_id")
        .starts_on.min()
    )
    phc_reached = phc.set_index("id").join(reached.rename("reached_on"))
    weeks = ((phc_reached.reached_on - phc_reached.entered_on).dt.days // 7).dropna()
    out["phc_paths"] = len(phc)
    out["phc_reached"] = int(phc_reached.reached_on.notna().sum())
    out["phc_median_weeks"] = round(float(weeks.clip(lower=0).median()), 3) if len(weeks) else None
    # Follow-ups due in the period.
    fu = f["follow_ups"]
    due = fu[(fu.due_on >= s) & (fu.due_on <= e)]
    out["follow_ups_due"] = len(due)
    out["follow_ups_done"] = int(due.done_on.notna().sum())
    out["follow_ups_late"] = int((due.done_on.isna() & (due.due_on < t)).sum())
    # Referrals created in the period (Paris days: the generated times are 9 h – 17 h UTC).
    r = f["referrals"]
    created = r.created_at.dt.tz_convert("Europe/Paris").dt.date
    r = r[(created >= start) & (created <= end)]
    tr = f["transitions"][f["transitions"].referral_id.isin(r.id)]
    sent = tr[tr.to_state == "sent"].groupby("referral_id").at.min()
    answered = tr[tr.to_state.isin(["accepted", "waitlisted", "refused"])].groupby("referral_id").at.min()
    accepted = set(tr[tr.to_state == "accepted"].referral_id)
    days = ((answered - sent).dropna().dt.total_seconds() / 86400).round()
    out["referrals"] = len(r)
    out["referrals_sent"] = int(len(sent))
    out["referrals_accepted"] = len(accepted)
    out["answer_days_median"] = round(float(days.median()), 3) if len(days) else None
    # Needs open at the end of the period (never resolved in the bench's data).
    open_people = people[(people.entered_on <= e) & (people.exited_on.isna() | (people.exited_on > e))]
    needs = f["needs"][f["needs"].participant_id.isin(open_people.id)]
    all_referrals = f["referrals"]
    before_end = all_referrals[all_referrals.created_at.dt.tz_convert("Europe/Paris").dt.date <= end]
    referred = set(zip(before_end.participant_id, before_end.domain, strict=True))
    out["open_needs"] = len(needs)
    out["needs_without_referral"] = int(
        sum((p, d) not in referred for p, d in zip(needs.participant_id, needs.domain, strict=True))
    )
    located = needs.merge(f["people"][["id", "territory_id"]], left_on="participant_id", right_on="id")
    located = located.merge(f["covered"], how="left", on=["territory_id", "domain"])
    out["needs_without_offer"] = int(located.covered.isna().sum())
    out["tables"] = _pandas_tables(f, people, active, left, r, tr, located, s, e, t)
    return out


def _pandas_tables(
    f: dict[str, pd.DataFrame],
    people: pd.DataFrame,
    active: pd.DataFrame,
    left: pd.DataFrame,
    r: pd.DataFrame,
    tr: pd.DataFrame,
    located: pd.DataFrame,
    s: pd.Timestamp,
    e: pd.Timestamp,
    t: pd.Timestamp,
) -> dict[str, int]:
    """The rest of the report's tables, so that pandas does the work SQL does: by programme,
    monthly series, types, flows, bands, worksites, outcomes, states, partners, reasons, gaps.
    Returned as the number of cells each gave (the key figures are compared apart)."""
    tables: dict[str, Any] = {}
    entered = (active.entered_on >= s) & (active.entered_on <= e)
    tables["by_programme"] = (
        active.assign(entered=entered)
        .groupby("programme")
        .agg(people=("person", "nunique"), paths=("id", "size"), entries=("entered", "sum"))
    )
    lengths = (left.exited_on - left.entered_on).dt.days / DAYS_PER_MONTH
    tables["lengths"] = lengths.groupby(left.programme).agg(["mean", "median"])
    tables["renewals"] = f["renewals"].groupby("outcome").size()
    month_entries = active.loc[entered, "entered_on"].dt.strftime("%Y-%m").value_counts()
    month_exits = left.exited_on.dt.strftime("%Y-%m").value_counts()
    tables["monthly"] = pd.concat([month_entries, month_exits], axis=1)
    tables["exit_types"] = left.exit_type.value_counts()
    tables["housing_flows"] = pd.crosstab(
        left.housing.map(HOUSING_GROUP_OF).fillna("non_renseigne"),
        left.housing_status.map(HOUSING_GROUP_OF).fillna("non_renseigne"),
    )
    tables["coverage_flows"] = pd.crosstab(left.coverage, left.health_coverage.fillna("non_renseigne"))
    c = f["contracts"]
    c = c[c.kind.isin(["cddi", "cddi_cvg", "cddi_phc"]) & (c.starts_on <= e)]
    c = c.sort_values(["participant_id", "starts_on", "weekly_hours"])
    first_hours = c.groupby("participant_id").weekly_hours.first()
    top_hours = c.groupby("participant_id").weekly_hours.max()
    phc = active[active.programme == "PHC"]
    bins = [0, 4, 8, 12, 19.99, 99]
    tables["phc_start"] = pd.cut(phc.id.map(first_hours), bins).value_counts()
    tables["phc_top"] = pd.cut(phc.id.map(top_hours), bins).value_counts()
    tables["phc_by_structure"] = phc.groupby("structure_id").size()
    fu = f["follow_ups"]
    due = fu[(fu.due_on >= s) & (fu.due_on <= e)]
    status = pd.Series("upcoming", index=due.index)
    status[due.done_on.isna() & (due.due_on < t)] = "late"
    status[due.done_on.notna()] = "done"
    tables["follow_ups"] = pd.crosstab(due.kind, status)
    tables["follow_up_outcomes"] = due[due.done_on.notna()].groupby(["kind", "outcome"]).size()
    tables["states"] = r.state.value_counts()
    sent = tr[tr.to_state == "sent"].groupby("referral_id").at.min()
    answered = tr[tr.to_state.isin(["accepted", "refused"])].groupby("referral_id").size()
    accepted = tr[tr.to_state == "accepted"].groupby("referral_id").size()
    facts = r.set_index("id")
    facts = facts.assign(
        sent=facts.index.isin(sent.index),
        answered=facts.index.isin(answered.index),
        accepted=facts.index.isin(accepted.index),
    )
    tables["by_domain"] = facts.groupby("domain")[["sent", "answered", "accepted"]].sum()
    tables["by_partner"] = facts[facts.sent].groupby("partner_id")[["answered", "accepted"]].sum()
    reasons = tr[tr.action.isin(["decline", "partner_refuse", "abandon"])]
    tables["reasons"] = reasons.groupby(["action", "reason"]).size()
    tables["needs_by_domain"] = located.groupby(["domain", located.covered.isna()]).size()
    return {name: int(table.size) for name, table in tables.items()}


# ---------------------------------------------------------------------------------------------
# The run


def _databases(database_url: str | None, echo: Echo) -> Iterator[tuple[str, Database]]:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(make_engine(f"sqlite:///{folder}/bench.sqlite3"))
        upgrade(database.engine)
        yield "sqlite", database
        database.dispose()
    if not database_url:
        echo("  PostgreSQL : non mesuré (donner --database-url).")
        return
    admin = make_engine(database_url)
    schema = f"bench_reporting_{os.getpid()}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    database = Database(make_engine(database_url, connect_args={"options": f"-csearch_path={schema}"}))
    try:
        upgrade(database.engine)
        yield "postgresql", database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def measure(
    database: Database,
    dataset: synthetic.Dataset,
    paths: PathRows,
    seed: int,
    echo: Echo,
    baseline: Callable[[], object] = lambda: None,
) -> dict[str, Any]:
    """Load `database`, then time its national report, each run paired with a run of
    `baseline` (pandas) just before it: on a machine whose load moves, the two are then measured
    under the same load, and their ratio means something."""
    started = time.perf_counter()
    coordinators = load(database, dataset, paths)
    loaded = time.perf_counter() - started
    echo(f"  données chargées en {loaded:.0f} s")
    today = dataset.today
    period = Period(date(today.year, 1, 1), date(today.year, 12, 31))
    national = Scope("all", None, "Tous les territoires", protected=True)
    timings, baseline_timings, report = [], [], None
    for _ in range(NATIONAL_REPEATS):
        started = time.perf_counter()
        baseline()
        baseline_timings.append(time.perf_counter() - started)
        with database.atomic() as session:
            started = time.perf_counter()
            report = indicators.compute(Context(session, national, period, None, today))
            timings.append(time.perf_counter() - started)
    assert report is not None
    rng = random.Random(seed)
    territories = [t for t, _slug, _name in dataset.territories]
    sample = rng.sample(territories, min(TERRITORY_SAMPLES, len(territories)))
    with database.atomic() as session:
        slugs = dict(session.execute(select(Territory.id, Territory.slug)).all())

    def page(territory_id: int) -> float:
        """One view of the territory's page by its coordinator: the scope checked, the report
        (kept by the worker's cache once computed) and its pictures — the page minus HTTP and
        the template. Milliseconds."""
        with database.atomic() as session:
            actor = session.get_one(User, coordinators[territory_id])
            started = time.perf_counter()
            request = reporting.report_request(
                session,
                actor,
                scope=f"territory:{slugs[territory_id]}",
                start=period.start,
                end=period.end,
                programme=None,
                today=today,
            )
            reporting.shown_report(session, actor, request, today=today).pictures()
            return (time.perf_counter() - started) * 1000

    # The first call pays for imports and caches a running server has already paid for.
    page(sample[0])
    # First views: nothing kept (as after any change of the data), every territory computed
    # and drawn. Then the same territories again, as the next readers see them: kept.
    report_cache.forget()
    first_ms = [page(territory_id) for territory_id in sample]
    again_ms = [page(territory_id) for territory_id in sample]
    return {
        "load_seconds": round(loaded, 1),
        "national_report_seconds": {
            "median": round(statistics.median(timings), 3),
            "min": round(min(timings), 3),
            "runs": len(timings),
        },
        "pandas_paired_seconds": {
            "median": round(statistics.median(baseline_timings), 3),
            "min": round(min(baseline_timings), 3),
            "runs": len(baseline_timings),
        },
        "territory_page": _percentiles(first_ms),
        "territory_page_again": _percentiles(again_ms),
        "figures": key_figures(report),
    }


def run(
    output: Path,
    *,
    scale: float = 1.0,
    seed: int = 20261123,
    echo: Echo = print,
    database_url: str | None = None,
) -> dict[str, Any]:
    echo(f"Banc d'essai des indicateurs (échelle {scale:g}, graine {seed})")
    dataset = synthetic.generate(scale, seed)
    paths = generate_paths(dataset, seed)
    echo(
        f"  {len(dataset.participants)} personnes, {len(paths.exits)} sorties, "
        f"{len(paths.follow_ups)} suivis, "
        f"{len(paths.referrals)} orientations, {len(paths.transitions)} mouvements"
    )
    today = dataset.today
    start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    families = {row["code"]: row["family"] for row in synthetic.read_seeds().lists["exit_type"]}
    data = frames(dataset, paths)
    pandas_times, expected = [], {}
    for _ in range(NATIONAL_REPEATS):
        started = time.perf_counter()
        expected = pandas_figures(data, start, end, today, families)
        pandas_times.append(time.perf_counter() - started)
    pandas_seconds = statistics.median(pandas_times)
    echo(f"  pandas (mêmes lignes en mémoire) : {pandas_seconds:.2f} s pour le rapport national")
    results: dict[str, Any] = {
        "benchmark": "reporting",
        "scale": scale,
        "seed": seed,
        "environment": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "cpus": os.cpu_count(),
            # Connections reading a report's parts at once (pandas computes on one core).
            "report_readers": parallel.READERS,
            "platform": platform.platform(),
        },
        "sizes": {
            "participants": len(dataset.participants),
            "territories": len(dataset.territories),
            "exits": len(paths.exits),
            "follow_ups": len(paths.follow_ups),
            "referrals": len(paths.referrals),
            "transitions": len(paths.transitions),
        },
        "pandas_national_seconds": round(pandas_seconds, 3),
        "pandas_figures": expected,
        "databases": {},
        "targets": {},
    }
    for name, database in _databases(database_url, echo):
        echo(f"{name} :")
        figures = measure(
            database,
            dataset,
            paths,
            seed,
            echo,
            baseline=lambda: pandas_figures(data, start, end, today, families),
        )
        disagreements = {
            key: {"sql": value, "pandas": expected.get(key)}
            for key, value in figures["figures"].items()
            if value != expected.get(key)
        }
        figures["agrees_with_pandas"] = not disagreements
        figures["disagreements"] = disagreements
        # Against the pandas runs paired with this database's (same moment, same load).
        paired = figures["pandas_paired_seconds"]["median"]
        ratio = figures["national_report_seconds"]["median"] / paired if paired else None
        figures["ratio_to_pandas"] = round(ratio, 2) if ratio is not None else None
        results["databases"][name] = figures
        results["targets"][f"{name}_national_within_2x_pandas"] = {
            "target": f"<= {TARGET_RATIO}",
            "value": figures["ratio_to_pandas"],
            "met": ratio is not None and ratio <= TARGET_RATIO,
        }
        p95 = figures["territory_page"]["p95_ms"]
        p95_again = figures["territory_page_again"]["p95_ms"]
        results["targets"][f"{name}_territory_page_p95_ms"] = {
            "target": f"<= {TARGET_PAGE_P95_MS}",
            "value": p95,
            "met": p95 <= TARGET_PAGE_P95_MS,
        }
        results["targets"][f"{name}_territory_page_again_p95_ms"] = {
            "target": f"<= {TARGET_PAGE_P95_MS}",
            "value": p95_again,
            "met": p95_again <= TARGET_PAGE_P95_MS,
        }
        echo(
            f"  rapport national {figures['national_report_seconds']['median']:.2f} s "
            f"({figures['ratio_to_pandas']}× pandas, {paired:.2f} s aux mêmes moments) ; "
            f"page d'un territoire, première vue p50 "
            f"{figures['territory_page']['median_ms']} ms, p95 {p95} ms ; vues suivantes p50 "
            f"{figures['territory_page_again']['median_ms']} ms, p95 {p95_again} ms ; "
            f"accord avec pandas : {'oui' if not disagreements else 'NON ' + ', '.join(disagreements)}"
        )
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return results
