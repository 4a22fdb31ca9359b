"""The partner search index stays fresh across processes' commits, whatever order they commit in.

Commits for real on a database of its own (two sessions must see each other's work)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from referral.db import Database, utcnow
from referral.partners.models import Partner
from referral.partners.search import OPPORTUNITY_INDEX, PARTNER_INDEX
from referral.schema import upgrade
from tests.conftest import fresh_engine


@pytest.fixture
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    engine: Engine = fresh_engine(backend, "search_freshness", tmp_path_factory)
    upgrade(engine)
    database = Database(engine)
    with database.atomic() as session:
        session.add_all(
            [
                Partner(name="Maison de santé des Pentes", kind="maison_sante", town="Lyon"),
                Partner(name="Bailleur du Rhône", kind="bailleur_social", town="Lyon"),
            ]
        )
    yield database
    PARTNER_INDEX.forget()
    OPPORTUNITY_INDEX.forget()
    engine.dispose()


def names_found(database: Database, query: str) -> set[str]:
    """The names the cached index finds for `query` (read back by id: the index holds ids)."""
    with database.atomic() as session:
        index = PARTNER_INDEX.get(session).index
        ids = [hit.id for hit in index.search(query, limit=5, min_score=90)]
        return {session.get_one(Partner, partner_id).name for partner_id in ids}


def test_an_edit_committed_after_a_later_stamped_one_is_indexed(database: Database) -> None:
    assert names_found(database, "Maison de santé des Pentes") == {"Maison de santé des Pentes"}
    stamped_first = utcnow()  # worker A stamps its edit, then is slow to commit

    # Worker B edits another partner and commits first, with a later stamp; the index sees it.
    with database.atomic() as session:
        session.execute(update(Partner).where(Partner.kind == "bailleur_social").values(name="Bailleur Est"))
    assert names_found(database, "Bailleur Est") == {"Bailleur Est"}

    # Worker A's commit lands now, stamped before B's: the latest `updated_at` does not move.
    with database.atomic() as session:
        session.execute(
            update(Partner)
            .where(Partner.kind == "maison_sante")
            .values(name="Centre de santé Croix-Rousse", updated_at=stamped_first - timedelta(seconds=1))
        )
    assert names_found(database, "Centre de santé Croix-Rousse") == {"Centre de santé Croix-Rousse"}
    assert names_found(database, "Maison de santé des Pentes") == set()


def test_every_write_moves_the_revision_in_the_database(database: Database) -> None:
    with database.atomic() as session:
        session.execute(update(Partner).where(Partner.kind == "maison_sante").values(town="Villeurbanne"))
        session.execute(update(Partner).where(Partner.kind == "maison_sante").values(town="Lyon"))
    with database.atomic() as session:
        revisions = {partner.kind: partner.revision for partner in session.query(Partner)}
    assert revisions == {"maison_sante": 3, "bailleur_social": 1}
