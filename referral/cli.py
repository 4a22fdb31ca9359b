"""The `referral …` command line (Flask CLI): set-up, seeding, and later matching, import, bench.

Each command is one unit of work: it opens `Database.atomic()`, calls services, and commits once.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from referral.db import Database


def _database() -> Database:
    return current_app.extensions["referral.database"]


def _create_app():
    from referral.web.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, add_default_commands=True)
def main() -> None:
    """Outil partagé des réseaux Convergence."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    from referral.schema import upgrade

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
def seed(demo_participants: int, random_seed: int) -> None:
    """Load reference data, the territories, partners and the demo accounts (idempotent)."""
    from referral.seeding import seed_all

    with _database().atomic() as session:
        report = seed_all(
            session,
            demo_participants=demo_participants,
            random_seed=random_seed,
            progress=lambda message: click.echo(f"  {message}", err=True),
        )
    for name, count in report.counts.items():
        click.echo(f"{name} : {count}")


@main.command("demo-accounts")
def demo_accounts_command() -> None:
    """Print the demo accounts and their password."""
    from referral.seeding import demo_accounts

    with _database().atomic() as session:
        password, accounts = demo_accounts(session)
    if not accounts:
        click.echo("Aucun compte de démonstration : lancez d'abord `referral seed`.")
        return
    click.echo(f"Comptes de démonstration (mot de passe commun : {password})")
    width = max(len(account.email) for account in accounts)
    for account in accounts:
        click.echo(f"  {account.email:<{width}}  {account.role} — {account.scope}")


BENCHMARKS = {
    "matching": "referral.matching.bench",
    "network": "referral.network.bench",
    "search": "referral.network.search_bench",
}


@main.command("bench")
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Fichier JSON des résultats (défaut : bench-results/<nom>.json).")
@click.option("--scale", type=click.FloatRange(min=0.0001, max=1.0), default=1.0, show_default=True,
              help="Fraction de la taille nationale (1.0 = échelle nationale ; petit = essai rapide).")
@click.option("--seed", type=int, default=20261123, show_default=True, help="Graine des données générées.")
def bench(name: str, output: str | None, scale: float, seed: int) -> None:
    """Run a benchmark on generated national-scale data and write its figures to a JSON file.

    Each benchmark measures the service's implementation and its baselines in the same run and
    reports ratios, so the figures hold on a shared, noisy machine.
    """
    import importlib
    from pathlib import Path

    module = importlib.import_module(BENCHMARKS[name])
    path = Path(output or f"bench-results/{name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    module.run(path, scale=scale, seed=seed, echo=click.echo)
    click.echo(f"Résultats écrits dans {path}")
