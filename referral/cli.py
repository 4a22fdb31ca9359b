"""The `referral …` command line (Flask CLI): set-up (`init-db`, `seed`, `demo-accounts`),
accounts (`users`, `tokens`), the scheduler, a person's proposals (`match`), data·inclusion and
network exports and imports, and the national-scale benchmarks (`bench`).

Each command is one unit of work: it opens `Database.atomic()`, calls services, and commits once.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import select

from referral import clock
from referral.audit.models import AuditAction
from referral.audit.services import Actor, record, set_actor
from referral.cases.models import Participant
from referral.config import ConfigurationError
from referral.db import Database
from referral.ecosystem.services import NetworkFilter, territory_export
from referral.exceptions import DomainError
from referral.partners.datainclusion import OUTCOME_LABELS, import_datainclusion, row_count
from referral.partners.datainclusion_export import export_datainclusion
from referral.partners.datainclusion_schema import read_document
from referral.referrals.matching_index import proposals
from referral.reporting import evaluation, exports
from referral.reporting import services as reporting
from referral.scheduling.jobs import JOBS_BY_NAME, run_job
from referral.scheduling.lease import release
from referral.scheduling.runtime import holder_name, serve
from referral.schema import upgrade
from referral.seeding import demo_accounts, seed_all
from referral.territories.models import Role, User
from referral.territories.queries import user_by_email
from referral.territories.services import (
    change_password,
    create_user,
    deactivate_user,
    issue_token,
    revoke_token,
)
from referral.web.app import create_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _database() -> Database:
    return current_app.extensions["referral.database"]


def _create_app():
    try:
        return create_app()
    except ConfigurationError as refusal:
        # The reason, without a trace, and exit status 1.
        raise click.ClickException(str(refusal)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, add_default_commands=True)
def main() -> None:
    """Outil partagé des réseaux Convergence."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""

    database = _database()
    upgrade(database.engine)
    click.echo(f"Base de données à jour ({database.engine.url.render_as_string(hide_password=True)}).")


@main.command("seed")
@click.option(
    "--demo-participants",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Nombre de salarié·es fictif·ves à générer.",
)
@click.option(
    "--random-seed",
    default=1,
    show_default=True,
    type=int,
    help="Graine du générateur : la même graine donne les mêmes personnes.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date du jour des personnes générées (AAAA-MM-JJ ; par défaut aujourd'hui).",
)
def seed(demo_participants: int, random_seed: int, today: datetime | None) -> None:
    """Load reference data, the territories, partners and the demo accounts (idempotent)."""

    with _database().atomic() as session:
        report = seed_all(
            session,
            demo_participants=demo_participants,
            random_seed=random_seed,
            today=today.date() if today else None,
            progress=lambda message: click.echo(f"  {message}", err=True),
        )
    for name, count in report.counts.items():
        click.echo(f"{name} : {count}")


@main.group("users")
def users() -> None:
    """Comptes utilisateur·rices."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Nom affiché.")
@click.option("--role", required=True, type=click.Choice(["cip", "cp", "coordinator", "admin"]))
@click.option("--structure", "structure_id", type=int, default=None, help="Structure d'un·e CIP (id).")
@click.option(
    "--territory", "territory_slug", default=None, help="Territoire d'un·e CP ou coordinateur·rice."
)
@click.option("--domain", "domains", multiple=True, help="Domaine d'un·e CP (répétable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(
    email: str,
    full_name: str,
    role: str,
    structure_id: int | None,
    territory_slug: str | None,
    domains: tuple[str, ...],
    password: str,
) -> None:
    """Create an account (the command line acts as the national team)."""

    try:
        with _database().atomic() as session:
            user = create_user(
                session,
                None,
                email=email,
                full_name=full_name,
                role=role,
                password=password,
                structure_id=structure_id,
                territory_slug=territory_slug,
                domains=domains,
            )
            user_id = user.id
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    click.echo(f"Compte créé : {email} (id {user_id}).")


def _account(session: Session, email: str) -> User:
    user = user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"Aucun compte pour « {email} ».")
    return user


@users.command("password")
@click.option("--email", required=True)
@click.option("--password", prompt="Nouveau mot de passe", hide_input=True, confirmation_prompt=True)
def users_password(email: str, password: str) -> None:
    """Set an account's password (checked for strength); its open sessions end."""
    try:
        with _database().atomic() as session:
            change_password(session, None, _account(session, email), password=password)
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    click.echo(f"Mot de passe changé pour {email} ; ses sessions ouvertes sont fermées.")


@users.command("deactivate")
@click.option("--email", required=True)
def users_deactivate(email: str) -> None:
    """Close an account: its sessions and API tokens stop working at once."""
    with _database().atomic() as session:
        deactivate_user(session, None, _account(session, email))
    click.echo(f"Compte fermé : {email}.")


@main.group("tokens")
def tokens() -> None:
    """Jetons d'accès à l'API."""


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", default="ligne de commande", show_default=True, help="À quoi sert ce jeton.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 365), help="Durée de validité.")
def tokens_create(email: str, name: str, days: int) -> None:
    """Issue a bearer token for an account; the token is printed on the last line."""

    with _database().atomic() as session:
        user = user_by_email(session, email)
        if user is None or not user.is_active:
            raise click.ClickException(f"Aucun compte actif pour « {email} ».")
        token, row = issue_token(session, user, name=name, lifetime=timedelta(days=days))
        expires = row.expires_at
    click.echo(f"Jeton pour {email}, valable jusqu'au {expires:%d/%m/%Y} (il ne sera plus affiché) :")
    click.echo(token)


# A token written before tokens stopped starting with « - » would read as an unknown option:
# unknown options are taken as the argument instead.
@tokens.command("revoke", context_settings={"ignore_unknown_options": True})
@click.argument("token")
def tokens_revoke(token: str) -> None:
    """Revoke a token."""

    try:
        with _database().atomic() as session:
            revoke_token(session, token)
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    click.echo("Jeton révoqué.")


def _explain(refusal: DomainError) -> str:
    lines = [refusal.message]
    for field, messages in refusal.errors.items():
        lines.extend(f"  {field} : {message}" for message in messages)
    return "\n".join(lines)


def job_outcome(result: object) -> str:
    """What a job did, in French words (it returns a count, a list of ids or a dict of counts)."""
    if result is None:
        return "ignorée (un autre planificateur tourne)"
    if isinstance(result, bool):
        return "fait" if result else "rien à faire"
    if isinstance(result, int):
        return "rien à faire" if result == 0 else f"{result} élément(s) traité(s)"
    if isinstance(result, list | tuple | set):
        return "rien à faire" if not result else f"{len(result)} élément(s) traité(s)"
    if isinstance(result, dict):
        parts = [f"{str(key).replace('_', ' ')} : {value}" for key, value in result.items()]
        return ", ".join(parts) or "rien à faire"
    return str(result)


@main.command("scheduler")
@click.option("--run-once", is_flag=True, help="Lancer chaque tâche planifiée une fois, puis s'arrêter.")
@click.option("--job", "jobs", multiple=True, help="Avec --run-once : seulement ces tâches (répétable).")
def scheduler(run_once: bool, jobs: tuple[str, ...]) -> None:
    """Run the scheduled jobs (follow-ups, renewals, reminders, expiries, digests).

    One scheduler runs at a time: a second one started by mistake finds the database lease held
    and stops at once.
    """

    # Run once (make run): one French line per job below, not the log's copy of it as well.
    level = logging.WARNING if run_once else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    database = _database()
    holder = holder_name()
    if run_once:
        unknown = [name for name in jobs if name not in JOBS_BY_NAME]
        if unknown:
            raise click.ClickException(
                f"Tâche(s) inconnue(s) : {', '.join(unknown)} ({', '.join(JOBS_BY_NAME)})."
            )
        click.echo("Tâches planifiées, lancées une fois :")
        for name in jobs or JOBS_BY_NAME:
            result = run_job(database, name, holder=holder)
            click.echo(f"  - {JOBS_BY_NAME[name].description} : {job_outcome(result)}")

        release(database, holder)
        return
    click.echo("Planificateur démarré (Ctrl-C pour arrêter).")
    if not serve(database, holder):
        raise click.ClickException("Un autre planificateur tourne déjà : celui-ci s'arrête sans rien faire.")


@main.command("match")
@click.option("--participant", "participant_id", type=int, required=True, help="Id du dossier.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
def match(participant_id: int, limit: int) -> None:
    """Print a person's ranked proposals with their reasons (acting as the structure's CIP)."""

    with _database().atomic() as session:
        person = session.get(Participant, participant_id)
        if person is None:
            raise click.ClickException(f"Aucun dossier n° {participant_id}.")
        # The command line reads as the person's referent (or a CIP of their structure): the
        # audit log records that account, as for any read of a record.
        actor = (
            session.get(User, person.referent_id)
            if person.referent_id
            else session.scalar(
                select(User)
                .where(User.structure_id == person.structure_id, User.role == Role.CIP)
                .order_by(User.id)
            )
        )
        if actor is None:
            raise click.ClickException(
                "Aucun·e CIP dans la structure de cette personne : rien à lire en son nom."
            )

        set_actor(session, Actor(actor.id, actor.email, actor.role.value, "ligne de commande"))
        ranked = proposals(session, actor, participant_id)
        eligible, near = ranked.eligible(limit=limit), ranked.near_misses(limit=limit)
        click.echo(f"Propositions pour {person.first_name} {person.last_name} (dossier n° {person.id}) :")
        for rank, proposal in enumerate(eligible, start=1):
            flags = f"  [{', '.join(proposal.flags)}]" if proposal.flags else ""
            click.echo(
                f"{rank:>2}. {round(proposal.score * 100):>3}/100  {proposal.opportunity_title} — "
                f"{proposal.partner_name}{flags}"
            )
            click.echo(f"      {proposal.answers_need_text or 'Ne répond à aucun frein ouvert'}")
            for reason in proposal.reasons:
                click.echo(f"      · {reason}")
        if not eligible:
            click.echo("  Aucune opportunité ouverte ne correspond aujourd'hui.")
        for group in ranked.by_need(limit=1):
            if group.gap is not None:
                click.echo(f"  ! {group.gap.sentence}")
        if near:
            click.echo("Presque éligible :")
            for proposal in near:
                when = f" (éligible le {proposal.eligible_on:%d/%m/%Y})" if proposal.eligible_on else ""
                click.echo(f"  - {proposal.opportunity_title} — {proposal.partner_name}{when}")
                for reason in proposal.blocking:
                    click.echo(f"      ✗ {reason}")


@main.command("demo-accounts")
def demo_accounts_command() -> None:
    """Print the demo accounts and their password."""

    with _database().atomic() as session:
        password, accounts = demo_accounts(session)
    if not accounts:
        click.echo("Aucun compte de démonstration : lancez d'abord `referral seed`.")
        return
    click.echo(f"Comptes de démonstration (mot de passe commun : {password})")
    rows = [("E-mail", "Rôle", "Périmètre")] + [(a.email, a.role, a.scope) for a in accounts]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    rule = f"  {'-' * widths[0]}  {'-' * widths[1]}  {'-' * max(len(row[2]) for row in rows)}"
    for index, (email, role, scope) in enumerate(rows):
        click.echo(f"  {email:<{widths[0]}}  {role:<{widths[1]}}  {scope}")
        if index == 0:
            click.echo(rule)


BENCHMARKS = {
    "matching": "referral.bench.matching",
    "network": "referral.bench.network",
    "search": "referral.bench.search",
    "http": "referral.bench.http",
    "reporting": "referral.bench.reporting",
}


@main.command("bench")
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Fichier JSON des résultats (défaut : bench-results/<nom>.json).",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=1.0),
    default=1.0,
    show_default=True,
    help="Fraction de la taille nationale (1.0 = échelle nationale ; petit = essai rapide).",
)
@click.option("--seed", type=int, default=20261123, show_default=True, help="Graine des données générées.")
@click.option(
    "--database-url",
    default=None,
    help="Base PostgreSQL des bancs qui en utilisent une (matching : l'appel du service, http : la base "
    "servie, reporting : la base mesurée), dans un schéma temporaire supprimé à la fin. "
    "Sans elle : SQLite seulement. Par exemple "
    "la base `test` du serveur local : postgresql+psycopg://postgres@127.0.0.1:5432/test, ou une base "
    "à soi (createdb -h 127.0.0.1 -U postgres bench_http).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="http : workers gunicorn."
)
@click.option(
    "--participants",
    type=click.IntRange(0, 100_000),
    default=2000,
    show_default=True,
    help="http : personnes générées dans le territoire de démonstration.",
)
@click.option(
    "--users",
    "paced_users",
    type=click.IntRange(1, 1000),
    multiple=True,
    help="http : utilisateurs au rythme d'une requête par seconde environ, une phase par valeur "
    "(défaut : 20 puis 50).",
)
@click.option(
    "--saturating-users",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="http : utilisateurs sans pause de la phase de saturation.",
)
@click.option(
    "--duration",
    type=click.FloatRange(1, 3600),
    default=30.0,
    show_default=True,
    help="http : secondes mesurées par phase de charge.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="http : passages de chaque appel de la phase « une requête à la fois ».",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="http : date de référence des personnes générées (AAAA-MM-JJ ; défaut : aujourd'hui).",
)
def bench(
    name: str,
    output: str | None,
    scale: float,
    seed: int,
    database_url: str | None,
    workers: int,
    participants: int,
    paced_users: tuple[int, ...],
    saturating_users: int,
    duration: float,
    repeat: int,
    today: datetime | None,
) -> None:
    """Run a benchmark of `referral/bench/` and write its figures to a JSON file.

    `matching`, `network` and `search` run on generated national-scale data and measure the
    service's implementation and its baselines in the same run, reporting ratios, so the figures
    hold on a shared, noisy machine; `matching` then times the proposals service call on a
    database too (SQLite, and the PostgreSQL of `--database-url` when given).

    `http` seeds a database (SQLite, or a schema of `--database-url`), starts gunicorn on
    127.0.0.1 with `--workers` workers and drives the realistic mix of issue 20 with locust:
    /healthz alone (the ceiling), one request at a time, paced users, then saturating users.
    """

    module = importlib.import_module(BENCHMARKS[name])
    path = Path(output or f"bench-results/{name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if name == "http":
        settings = module.Settings(
            workers=workers,
            participants=participants,
            paced_users=module.parse_users(paced_users),
            saturating_users=saturating_users,
            duration=duration,
            repeat=repeat,
            seed=seed,
            today=today.date() if today else None,
            database_url=database_url,
        )
        module.run(path, settings, echo=click.echo)
        click.echo(f"Résultats écrits dans {path}")
        return
    if name == "reporting":
        module.run(path, scale=scale, seed=seed, echo=click.echo, database_url=database_url)
    else:
        module.run(path, scale=scale, seed=seed, echo=click.echo)
    if name == "matching":
        # (b) needs the database: measured by bench/matching_service.py, into the same file.
        # Benchmarks load (with their generators and NumPy) only when one is run, like `module`.
        from referral.bench.matching_service import run_service

        run_service(path, scale=scale, seed=seed, echo=click.echo, database_url=database_url)
    click.echo(f"Résultats écrits dans {path}")


# ---------------------------------------------------------------------------------------------
# data·inclusion exchange (issue 7: the partner network)
# ---------------------------------------------------------------------------------------------


@main.group("import")
def import_group() -> None:
    """Importer des données d'autres outils."""


@import_group.command("data-inclusion")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--territory",
    "territory_slug",
    default=None,
    help="Rattacher toutes les structures à ce territoire (par défaut : d'après leur code postal "
    "ou leur code commune, sinon les zones d'éligibilité de leurs services).",
)
@click.option(
    "--publish",
    is_flag=True,
    default=False,
    help="Importer comme publiées les opportunités qu'un export Convergence donne comme publiées "
    "(sinon : brouillons à compléter).",
)
def import_data_inclusion(file: str, territory_slug: str | None, publish: bool) -> None:
    """Import data·inclusion v1 structures and services (JSON) as partners and opportunities.

    Every row is validated by the schema's official package; bad rows are reported with their
    reason and skipped, the good ones kept; everything is committed at the end, once.
    """

    try:
        with open(file, encoding="utf-8") as handle:
            payload = read_document(handle.read())
        total = row_count(payload)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise click.ClickException(f"Fichier illisible ({file}) : {error}") from None
    try:
        with (
            _database().atomic() as session,
            click.progressbar(length=total, label="Import data·inclusion", file=sys.stderr) as bar,
        ):
            report = import_datainclusion(
                session, None, payload, territory_slug=territory_slug, publish=publish, progress=bar.update
            )
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    summary = report.summary()
    for kind, label in (("structure", "Structures"), ("service", "Services")):
        counts = summary[kind]
        click.echo(
            f"{label} : {counts['created']} créé·es, {counts['merged']} fusionné·es, "
            f"{counts['unchanged']} déjà importé·es, {counts['rejected']} rejeté·es, "
            f"{counts['conflict']} en conflit."
        )
    for line in report.lines:
        if line.outcome != "created":
            outcome = OUTCOME_LABELS[line.outcome]
            click.echo(
                f"  [{outcome}] {line.kind} n° {line.position} {line.source_id} « {line.name} » : "
                f"{line.detail}"
            )
    if report.drafts:
        click.echo(f"Brouillons à compléter puis publier ({len(report.drafts)}) :")
        for line in report.drafts:
            click.echo(f"  - {line.source_id} « {line.name} » (opportunité {line.record_id}) : {line.detail}")


@main.group("export")
def export_group() -> None:
    """Exporter des données vers d'autres outils."""


@export_group.command("data-inclusion")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Fichier JSON (défaut : sortie standard).",
)
@click.option(
    "--territory", "territory_slug", default=None, help="Seulement les opportunités de ce territoire."
)
def export_data_inclusion(output: str | None, territory_slug: str | None) -> None:
    """Write the published opportunities as data·inclusion v1 services (JSON), with their partners.

    Every row is validated by the schema's official package; a row it refuses is left out and
    named on the error output with its reasons, never cut to fit.
    """

    try:
        with _database().atomic() as session:
            exported = export_datainclusion(session, None, territory_slug=territory_slug)
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    document = exported.document
    for item in exported.left_out:
        click.echo(f"Non exporté·e : {item.kind} {item.record_id} « {item.name} » : {item.reason}", err=True)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        counts = f"{len(document['services'])} service(s) et {len(document['structures'])} structure(s)"
        click.echo(f"{counts} écrits dans {output}.", err=True)
    else:
        click.echo(text)


# ---------------------------------------------------------------------------------------------
# The territorial ecosystem as a file for Gephi (issue 8: the territorial ecosystem)
# ---------------------------------------------------------------------------------------------


@export_group.command("network")
@click.option("--territory", "territory_slug", required=True, help="Le territoire (slug, ex. lyon).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gexf", "graphml", "json"]),
    default="gexf",
    show_default=True,
    help="GEXF et GraphML s'ouvrent dans Gephi ; JSON : données node-link.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Fichier à écrire (défaut : network-<territoire>.<extension>).",
)
@click.option("--domain", default=None, help="Seulement ce domaine (code, ex. logement).")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Orientations créées depuis (AAAA-MM-JJ).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Orientations créées jusqu'au (AAAA-MM-JJ).",
)
def export_network(
    territory_slug: str,
    fmt: str,
    output: str | None,
    domain: str | None,
    since: datetime | None,
    until: datetime | None,
) -> None:
    """Write a territory's ecosystem graph (structures, partners, CPs, domains, national
    partnerships; counts only, no participant) as GEXF, GraphML or node-link JSON."""

    network_filter = NetworkFilter(
        domain=domain, since=since.date() if since else None, until=until.date() if until else None
    )
    try:
        with _database().atomic() as session:
            exported = territory_export(session, None, territory_slug, fmt, network_filter)
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    path = output or exported.filename
    with open(path, "wb") as handle:
        handle.write(exported.content)
    click.echo(f"Écosystème de « {territory_slug} » écrit dans {path} ({len(exported.content)} octets).")


# ---------------------------------------------------------------------------------------------
# Indicators and the evaluation export (issue 17)
# ---------------------------------------------------------------------------------------------


def _acting_account(session: Session, email: str | None) -> User:
    """The account a reporting command acts as: `--as`, or else the first national-team account
    (what the command prints is what that account would see, and the audit log names it)."""
    if email:
        actor = user_by_email(session, email)
    else:
        actor = session.scalar(
            select(User).where(User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id)
        )
    if actor is None or not actor.is_active:
        raise click.ClickException(
            "Aucun compte actif pour agir : donnez --as avec l'adresse d'un compte (équipe nationale "
            "pour tous les territoires)."
        )
    set_actor(session, Actor(actor.id, actor.email, actor.role.value, "ligne de commande"))
    return actor


@main.command("report")
@click.option(
    "--scope", default=None, help="« territory:lyon », « structure:12 » ou « all » (défaut : le sien)."
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Début (AAAA-MM-JJ).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Fin (AAAA-MM-JJ).")
@click.option("--programme", type=click.Choice(["CVG", "PHC"]), default=None, help="Un seul programme.")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="xlsx", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option(
    "--as", "as_email", default=None, help="Agir en tant que ce compte (défaut : l'équipe nationale)."
)
def report(
    scope: str | None,
    start: datetime | None,
    end: datetime | None,
    programme: str | None,
    fmt: str,
    output: str | None,
    as_email: str | None,
) -> None:
    """Write the indicators of a scope and period (the « Indicateurs » page) as XLSX, CSV or JSON,
    with the same protection of small counts as the page for that account."""
    try:
        with _database().atomic() as session:
            actor = _acting_account(session, as_email)
            request = reporting.report_request(
                session,
                actor,
                scope=scope,
                start=start.date() if start else None,
                end=end.date() if end else None,
                programme=programme,
            )
            result = reporting.indicators_report(session, actor, request)
            if fmt == "xlsx":
                content = exports.to_xlsx(result)
            elif fmt == "csv":
                content = exports.to_csv(result)
            else:
                content = json.dumps(exports.to_data(result), ensure_ascii=False, indent=2).encode()
            record(
                session,
                AuditAction.EXPORT,
                entity="indicators",
                details={"scope": request.scope.code, "period": result.period_label, "format": fmt},
            )
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    path = output or exports.filename(request.scope.code, request.period, request.programme, fmt)
    with open(path, "wb") as handle:
        handle.write(content)
    click.echo(f"Indicateurs ({result.scope_label}, {result.period_label}) écrits dans {path}.")


@export_group.command("evaluation")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Début (AAAA-MM-JJ).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Fin (AAAA-MM-JJ).")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help=f"Fichier de la clé de pseudonymisation (sinon : {evaluation.KEY_ENVIRONMENT_VARIABLE}).",
)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--as", "as_email", default=None, help="Compte de l'équipe nationale (défaut : le premier).")
def export_evaluation(
    start: datetime, end: datetime, key_file: str | None, fmt: str, output: str | None, as_email: str | None
) -> None:
    """The evaluation export (one pseudonymised row per path, no name, no free text), for external
    evaluators. The key is the national team's: given in a file or in the environment variable
    REFERRAL_EVALUATION_KEY, never on the command line (it would stay in the shell's history)."""
    key = (
        Path(key_file).read_text().strip()
        if key_file
        else os.environ.get(evaluation.KEY_ENVIRONMENT_VARIABLE)
    )
    try:
        with _database().atomic() as session:
            actor = _acting_account(session, as_email)
            exported = evaluation.evaluation_export(
                session, actor, key, start=start.date(), end=end.date(), today=clock.today()
            )
    except DomainError as refusal:
        raise click.ClickException(_explain(refusal)) from None
    path = Path(output or f"evaluation-{start.date().isoformat()}-{end.date().isoformat()}.{fmt}")
    if fmt == "xlsx":
        path.write_bytes(exported.to_xlsx())
    else:
        path.write_bytes(exported.to_csv())
        path.with_name(path.stem + "-dictionnaire.csv").write_bytes(exported.dictionary_csv())
    for name, value in exported.summary():
        click.echo(f"  {name} : {value}")
    click.echo(f"Export pour l'évaluation écrit dans {path}.")
