"""`referral bench http`: the service under load, as an outsider would measure it (issue 20).

What it does, in order:

1. seeds a database of its own — a temporary SQLite file, or a temporary schema of the
   PostgreSQL database given with ``--database-url`` (dropped at the end) — with the demo
   territory and `participants` generated people (`referral seed --demo-participants`);
2. starts gunicorn on 127.0.0.1 with the production settings (``gunicorn.conf.py``) and `workers`
   sync workers, plus hooks that count the SQL statements of each request
   (`referral.bench.http_gunicorn`);
3. issues one API token per virtual user and drives the load with locust used as a library, in a
   process of its own (`referral.bench.http_load`), one phase after the other: ``/healthz`` alone
   with saturating users (the ceiling of this machine and this gunicorn), one request at a time
   (each API call and page in turn), paced users (about one request a second each: 20, then 50 by
   default), and saturating users on the mix;
4. writes per phase and per endpoint the requests, errors, req/s and p50/p95/p99, the ratios to
   the ceiling, the workers' memory, and the statements per request, to ``bench-results/http.json``
   with the targets of issue 20 read from them.

The load only ever targets 127.0.0.1. The generator shares the machine with the server: its
figures are those of one machine, noisy when others use it (the JSON says the load average).
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from referral.access import opportunity_filter
from referral.cases.models import Participant
from referral.db import Database, make_engine, utcnow
from referral.paging import DEFAULT_LIMIT
from referral.partners.models import Opportunity, OpportunityStatus, Partner, PartnerTerritory
from referral.schema import upgrade
from referral.seeding import seed_all
from referral.territories import two_factor
from referral.territories.models import Territory, User
from referral.territories.queries import user_by_email
from referral.territories.services import issue_token

HOST = "127.0.0.1"
SLUG = "lyon"
DEMO_PASSWORD = "demo-convergence-2026"
ACCOUNTS = {
    "cip": "cip.fndsa@demo.convergence.test",
    "cp": "cp.logement.lyon@demo.convergence.test",
    "coordinator": "coordination.lyon@demo.convergence.test",
    "admin": "admin@demo.convergence.test",
}


@dataclass(frozen=True)
class Settings:
    workers: int = 2
    participants: int = 2000
    paced_users: tuple[int, ...] = (20, 50)
    saturating_users: int = 8
    healthz_users: int = 16
    duration: float = 30.0
    repeat: int = 20
    seed: int = 20261123
    today: date | None = None
    database_url: str | None = None


# --- The database ------------------------------------------------------------------------------


@contextmanager
def bench_database(database_url: str | None, folder: Path) -> Iterator[tuple[str, str]]:
    """(backend, URL) of an empty database of the bench's own, gone afterwards: a SQLite file in
    `folder`, or a new schema of the PostgreSQL database `database_url`."""
    if database_url is None:
        yield "sqlite", f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError("--database-url : une base PostgreSQL est attendue (postgresql+psycopg://…).")
    schema = f"bench_http_{os.getpid()}"
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        # Every process (this one, the workers) reads the schema through the URL itself.
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield "postgresql", scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def with_typo(name: str, index: int) -> str:
    """`name` as someone types it in a hurry: two letters swapped, accents dropped by the index."""
    letters = list(name.lower())
    spot = 1 + index % max(1, len(letters) - 2)
    if spot + 1 < len(letters):
        letters[spot], letters[spot + 1] = letters[spot + 1], letters[spot]
    return "".join(letters)


def prepare(url: str, settings: Settings, tokens_per_role: int, echo: Callable[[str], Any]) -> dict[str, Any]:
    """Migrate and seed the database, and read what the load needs: ids, names, one token per
    virtual user."""
    database = Database(make_engine(url))
    upgrade(database.engine)
    started = time.perf_counter()
    with database.atomic() as session:
        seed_all(
            session,
            demo_participants=settings.participants,
            random_seed=settings.seed,
            today=settings.today,
            progress=lambda message: echo(f"  {message}"),
        )
    echo(f"  base remplie en {time.perf_counter() - started:.0f} s")
    with database.atomic() as session:
        users: dict[str, User] = {}
        for role, email in ACCOUNTS.items():
            user = user_by_email(session, email)
            assert user is not None, f"{email} is not seeded"
            users[role] = user
        cip = users["cip"]
        participants = list(
            session.scalars(
                select(Participant.id)
                .where(Participant.structure_id == cip.structure_id, Participant.anonymised_at.is_(None))
                .order_by(Participant.id)
            )
        )
        territory = session.scalar(select(Territory).where(Territory.slug == SLUG))
        assert territory is not None
        opportunities = list(
            session.scalars(
                select(Opportunity.id)
                .where(opportunity_filter(users["cp"]), Opportunity.status == OpportunityStatus.PUBLISHED)
                .order_by(Opportunity.id)
                .limit(20)
            )
        )
        # The national opportunity deployed in the most territories: the national team's heaviest
        # reverse matching.
        national = session.scalar(
            select(Opportunity.id)
            .join(PartnerTerritory, PartnerTerritory.partner_id == Opportunity.partner_id)
            .where(Opportunity.territory_id.is_(None), Opportunity.status == OpportunityStatus.PUBLISHED)
            .group_by(Opportunity.id)
            .order_by(func.count().desc(), Opportunity.id)
            .limit(1)
        )
        names = list(
            session.scalars(
                select(Partner.name)
                .join(PartnerTerritory, PartnerTerritory.partner_id == Partner.id)
                .where(PartnerTerritory.territory_id == territory.id)
                .order_by(Partner.id)
                .limit(20)
            )
        )
        tokens = {
            role: [issue_token(session, user, name=f"bench {index}")[0] for index in range(tokens_per_role)]
            for role, user in users.items()
        }
        # The national team signs in with a second factor (`two_factor.required_for`): enrol the
        # account as a person would, with the first code of its new secret, and keep the recovery
        # codes it answers — single-use, one per sign-in, whereas a TOTP code is accepted once per
        # 30 s step and the phases sign in more often than that.
        secret = two_factor.new_secret()
        now = utcnow()
        recovery_codes = two_factor.enable(
            session, users["admin"], secret=secret, code=pyotp.TOTP(secret).at(now), now=now
        )
    database.dispose()
    person = participants[len(participants) // 2]
    admin_token, cp_token, cip_token, coordinator_token = (
        tokens["admin"].pop(),
        tokens["cp"].pop(),
        tokens["cip"].pop(),
        tokens["coordinator"].pop(),
    )
    single = [
        ("GET /participants", f"/api/v1/participants?limit={DEFAULT_LIMIT}", cip_token),
        ("GET /participants/{id}", f"/api/v1/participants/{person}", cip_token),
        ("GET /participants/{id}/proposals", f"/api/v1/participants/{person}/proposals", cip_token),
        ("GET /participants/{id}/timeline", f"/api/v1/participants/{person}/timeline", cip_token),
        ("GET /referrals", f"/api/v1/referrals?limit={DEFAULT_LIMIT}", cp_token),
        ("GET /partners", f"/api/v1/partners?limit={DEFAULT_LIMIT}", cp_token),
        ("GET /opportunities", f"/api/v1/opportunities?limit={DEFAULT_LIMIT}", cp_token),
        ("GET /partners/search", f"/api/v1/partners/search?q={quote(with_typo(names[0], 0))}", cp_token),
        ("GET /opportunities/{id}/matches", f"/api/v1/opportunities/{opportunities[0]}/matches", cp_token),
        (
            "GET /opportunities/{national}/matches (national team)",
            f"/api/v1/opportunities/{national}/matches",
            admin_token,
        ),
        (
            "GET /territories/{slug}/network/analytics",
            f"/api/v1/territories/{SLUG}/network/analytics",
            coordinator_token,
        ),
        ("GET /territories/{slug}/network", f"/api/v1/territories/{SLUG}/network", coordinator_token),
    ]
    pages = [
        ("page CIP /", "/", "cip"),
        ("page /salaries/", "/salaries/", "cip"),
        ("page /salaries/{id}", f"/salaries/{person}", "cip"),
        ("page /salaries/{id}/chronologie", f"/salaries/{person}/chronologie", "cip"),
        (
            "page /orientations/salarie/{id}/propositions",
            f"/orientations/salarie/{person}/propositions",
            "cip",
        ),
        ("page CP /", "/", "cp"),
        ("page /orientations/", "/orientations/", "cp"),
        ("page /reseau/", "/reseau/", "cp"),
        ("page coordination /", "/", "coordinator"),
        ("page /ecosysteme/{slug}", f"/ecosysteme/{SLUG}", "coordinator"),
        ("page national /", "/", "admin"),
    ]
    return {
        "slug": SLUG,
        "ids": {
            "participants": participants,
            "participant_pages": max(1, math.ceil(len(participants) / DEFAULT_LIMIT)),
            "opportunities": opportunities,
            "typos": [with_typo(name, index) for index, name in enumerate(names)],
            "national_opportunity": national,
        },
        "tokens": tokens,
        "single": {
            "calls": [{"name": name, "path": path, "token": token} for name, path, token in single]
            + [{"name": name, "path": path, "role": role} for name, path, role in pages],
            "logins": ACCOUNTS,
            "password": DEMO_PASSWORD,
        },
        "recovery_codes": {"admin": recovery_codes},
    }


# --- gunicorn ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(url: str, workers: int, folder: Path, echo: Callable[[str], Any]) -> Iterator[tuple[str, int]]:
    """gunicorn serving `url` on 127.0.0.1 with the production settings: (address, master pid)."""
    port = free_port()
    statements = folder / "statements"
    statements.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": str(workers),
        "HOST": HOST,
        "PORT": str(port),
        "REFERRAL_ENV": "development",
        "REFERRAL_SECRET_KEY": "bench-http-" + "k" * 40,
        "REFERRAL_INSTANCE_PATH": str(folder / "instance"),
        "BENCH_STATEMENTS_DIR": str(statements),
        "GUNICORN_LOG_LEVEL": "warning",
    }
    env.pop("PORT_FORWARDED", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:referral.bench.http_gunicorn",
        "--access-logfile",
        str(folder / "access.log"),
        "--error-logfile",
        str(folder / "error.log"),
        "--bind",
        f"{HOST}:{port}",
        "wsgi:app",
    ]
    root = Path(__file__).resolve().parent.parent.parent
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    address = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                raise RuntimeError(f"gunicorn s'est arrêté au démarrage :\n{log[-3000:]}")
            try:
                with urllib.request.urlopen(f"{address}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn ne répond pas sur /healthz après 90 s.")
            time.sleep(0.3)
        echo(f"  gunicorn sur {address}, {workers} workers (pid {process.pid})")
        yield address, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each worker of the gunicorn `master` (Linux's /proc)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            sizes.append(round(int(fields["VmRSS"].split()[0]) / 1024, 1))
    return sorted(sizes)


def statements_per_request(folder: Path) -> dict[str, dict[str, float]]:
    counts: dict[str, list[int]] = defaultdict(list)
    for path in (folder / "statements").glob("*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, count = line.rpartition("\t")
            if name and count.isdigit():
                counts[name].append(int(count))
    return {
        name: {"median": statistics.median(values), "max": max(values), "requests": len(values)}
        for name, values in sorted(counts.items())
    }


# --- The load ------------------------------------------------------------------------------------


def load_phase(address: str, plan: dict[str, Any], phase: dict[str, Any], folder: Path) -> dict[str, Any]:
    """One phase of load in its own process (locust patches the standard library)."""
    spec = {**plan, "host": address, "phase": phase}
    spec_path, result_path = folder / "spec.json", folder / "result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "referral.bench.http_load", str(spec_path), str(result_path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "locust.log").open("a"),
        timeout=float(phase.get("duration", 0)) + 600,
    )
    return dict(json.loads(result_path.read_text(encoding="utf-8")))


def target(value: float | None, limit: float, *, at_least: bool = False) -> dict[str, Any]:
    if value is None:
        return {"target": f"{'>=' if at_least else '<='} {limit}", "value": None, "met": None}
    met = value >= limit if at_least else value <= limit
    return {"target": f"{'>=' if at_least else '<='} {limit}", "value": value, "met": met}


LIST_ENDPOINTS = ("GET /participants", "GET /referrals", "GET /partners", "GET /opportunities")


def targets(phases: dict[str, Any]) -> dict[str, Any]:
    """Issue 20's targets, read from the phases."""
    single = phases["single"]["endpoints"]
    found: dict[str, Any] = {}
    saturation = phases.get("saturation")
    if saturation:
        found["capacity_ratio_to_healthz"] = target(saturation.get("ratio_to_healthz"), 0.2, at_least=True)
        found["saturation_errors"] = target(saturation["errors"], 0)
    for users, limit in ((20, 100), (50, 300)):
        paced = phases.get(f"paced_{users}")
        if paced:
            found[f"paced_{users}_p95_ms"] = target(paced["p95_ms"], limit)
            found[f"paced_{users}_errors"] = target(paced["errors"], 0)
    for name in LIST_ENDPOINTS:
        if name in single:
            found[f"single {name} p50_ms (page of 50)"] = target(single[name]["p50_ms"], 25)
    if "GET /participants/{id}/proposals" in single:
        found["single proposals p50_ms"] = target(single["GET /participants/{id}/proposals"]["p50_ms"], 15)
    pages = [figures["p50_ms"] for name, figures in single.items() if name.startswith("page ")]
    if pages:
        found["single slowest page p50_ms"] = target(max(pages), 150)
    ecosystem = single.get("page /ecosysteme/{slug}")
    if ecosystem:
        found["ecosystem page p95_ms (cached)"] = target(ecosystem["p95_ms"], 200)
    national = single.get("GET /opportunities/{national}/matches (national team)")
    if national:
        found["national reverse matching p95_s"] = target(round(national["p95_ms"] / 1000, 3), 0.5)
    return found


def _stop(_signal: int, _frame: Any) -> None:
    # A stopped bench still stops its gunicorn and drops its schema (the `finally` blocks).
    raise SystemExit(143)


def run(output: Path, settings: Settings, echo: Callable[[str], Any] = print) -> dict[str, Any]:
    started_at = datetime.now(UTC)
    signal.signal(signal.SIGTERM, _stop)
    largest = max((*settings.paced_users, settings.saturating_users, 1))
    with tempfile.TemporaryDirectory(prefix="bench-http-") as temp:
        folder = Path(temp)
        with bench_database(settings.database_url, folder) as (backend, url):
            echo(
                f"Base {backend} : migration et données de démonstration ({settings.participants} personnes)…"
            )
            plan = prepare(url, settings, largest + 2, echo)
            with gunicorn(url, settings.workers, folder, echo) as (address, master):
                phases: dict[str, Any] = {}
                memory: dict[str, list[float]] = {"after_start": worker_rss_mb(master)}

                def phase(name: str, spec: dict[str, Any], label: str) -> dict[str, Any]:
                    echo(f"  {label}…")
                    result = load_phase(address, plan, spec, folder)
                    memory[f"after_{name}"] = worker_rss_mb(master)
                    echo(
                        f"    {result['requests']} requêtes, {result['rps']} req/s, "
                        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
                        f"{result['errors']} erreurs"
                    )
                    return result

                def second_factor() -> dict[str, str]:
                    # A recovery code of its own for each role that needs one: single-use.
                    return {role: codes.pop() for role, codes in plan["recovery_codes"].items()}

                # Every worker builds its matching index, search indexes and caches before measuring.
                phase(
                    "warm_up",
                    {"kind": "mix", "users": 4, "duration": 10, "ramp": 1},
                    "mise en route (non mesurée)",
                )
                phase(
                    "warm_up_single",
                    {"kind": "single", "repeat": 3, "second_factor": second_factor()},
                    "mise en route des pages (non mesurée)",
                )
                phases["healthz"] = phase(
                    "healthz",
                    {"kind": "healthz", "users": settings.healthz_users, "duration": settings.duration},
                    f"/healthz seul, {settings.healthz_users} utilisateurs sans pause (plafond)",
                )
                phases["single"] = phase(
                    "single",
                    {"kind": "single", "repeat": settings.repeat, "second_factor": second_factor()},
                    f"une requête à la fois ({settings.repeat} fois chaque appel)",
                )
                for users in settings.paced_users:
                    phases[f"paced_{users}"] = phase(
                        f"paced_{users}",
                        {"kind": "mix", "users": users, "paced": True, "duration": settings.duration},
                        f"mélange, {users} utilisateurs au rythme d'une requête par seconde environ",
                    )
                phases["saturation"] = phase(
                    "saturation",
                    {"kind": "mix", "users": settings.saturating_users, "duration": settings.duration},
                    f"mélange, {settings.saturating_users} utilisateurs sans pause (saturation)",
                )
                ceiling = phases["healthz"]["rps"] or 0
                for name, figures in phases.items():
                    if name != "healthz" and ceiling and figures.get("rps"):
                        figures["ratio_to_healthz"] = round(figures["rps"] / ceiling, 3)
                statements = statements_per_request(folder)
    results: dict[str, Any] = {
        "benchmark": "http",
        "started_at": started_at.isoformat(timespec="seconds"),
        "database": backend,
        "workers": settings.workers,
        "participants": settings.participants,
        "seed": settings.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
            "note": "locust runs on the same machine as gunicorn and the database; the machine may be "
            "shared: compare the ratios to /healthz of the same run rather than absolute figures",
        },
        "settings": {
            "duration_s": settings.duration,
            "paced_users": list(settings.paced_users),
            "paced_wait_s": [0.5, 1.5],
            "saturating_users": settings.saturating_users,
            "healthz_users": settings.healthz_users,
            "single_repeat": settings.repeat,
        },
        "phases": phases,
        "worker_rss_mb": memory,
        "statements_per_request": statements,
        "targets": targets(phases),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    echo("Objectifs (issue 20) :")
    for key, value in results["targets"].items():
        mark = "ok" if value["met"] else ("—" if value["met"] is None else "MANQUÉ")
        echo(f"  {mark:>6}  {key}: {value['value']} (objectif {value['target']})")
    return results


def parse_users(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted(set(values))) or (20, 50)
