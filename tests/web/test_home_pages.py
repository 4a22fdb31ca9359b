"""Home pages that agree (issue 16): « À faire » counts the referrals waiting for the person,
« À surveiller » says why, the CP home shows the CP's domains first."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from referral import clock
from referral.referrals.models import Referral
from tests.helpers import DEMO, login
from tests.referrals import test_lifecycle
from tests.referrals.test_lifecycle import World, accept, move

world = test_lifecycle.world


def test_a_referral_to_handle_is_counted_in_a_faire(client: FlaskClient, bearer, world: World) -> None:
    referral = accept(client, bearer("cip"), world, world.validated)
    move(client, bearer("cip"), referral, "submit")
    move(client, bearer("cp_logement"), referral, "request_info")
    login(client, DEMO["cip"])
    html = client.get("/").get_data(as_text=True)
    todo = html[html.index('id="todo"') : html.index('id="a-traiter"')]
    assert "Rien à faire" not in todo
    assert "<strong>1</strong> orientation(s) à traiter" in todo

    move(client, bearer("cip"), referral, "submit")
    cp = client.application.test_client()
    login(cp, DEMO["cp_logement"])
    html = cp.get("/").get_data(as_text=True)
    assert "<strong>1</strong> orientation(s) à valider" in html


def test_a_referral_waiting_over_ten_days_is_to_watch(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral = accept(client, bearer("cip"), world, world.validated)
    move(client, bearer("cip"), referral, "submit")
    session.execute(
        update(Referral)
        .where(Referral.id == referral["id"])
        .values(waiting_since=clock.now() - timedelta(days=12))
    )
    session.commit()
    login(client, DEMO["cip"])
    html = client.get("/salaries/?q=Orientee").get_data(as_text=True)
    assert "Orientation en attente depuis 12 jours." in html


def test_the_cp_home_shows_the_cp_domains_first(client: FlaskClient) -> None:
    login(client, DEMO["cp_logement"])
    html = client.get("/").get_data(as_text=True)
    mine = html[html.index('id="opportunites"') :]
    assert "Opportunités de mes domaines" in mine
    assert "opportunités des autres domaines du territoire" in mine
    assert "<td>Emploi</td>" not in mine  # another CP's domain waits behind the link
    everything = client.get("/?offres=toutes").get_data(as_text=True)
    assert "Autres opportunités du territoire" in everything
    assert "<td>Emploi</td>" in everything
