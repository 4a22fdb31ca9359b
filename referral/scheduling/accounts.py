"""The job that looks for leavers nobody cut off: accounts unused for six months.

Each coordinator is told, once a month, which accounts of their territory (its CPs and the CIPs
of its structures) nobody signed in to nor used a token of for six months; the national team is
told of the others (coordinators, the national team, structures outside any territory). They
close the accounts of people who left from « Comptes ».
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.tasks.services import notify
from referral.territories.accounts import unused_accounts
from referral.territories.models import Role, User

# A notification names at most this many people; the page « Comptes » lists them all.
NAMED_AT_MOST = 20


def _message(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED_AT_MOST])
    more = f" et {len(names) - NAMED_AT_MOST} autre(s)" if len(names) > NAMED_AT_MOST else ""
    return (
        f"{len(names)} compte(s) inutilisé(s) depuis six mois : {shown}{more}. "
        "Fermez ceux des personnes qui ont quitté leur poste."
    )


def report_unused_accounts(session: Session, now: datetime) -> int:
    """Notify each territory's coordinators (and the national team for the rest); how many
    notifications were new (one per person and month: running twice adds nothing)."""
    by_territory: dict[int | None, list[User]] = defaultdict(list)
    for user in unused_accounts(session, now=now):
        territory_id = user.scope_territory_id if user.role in (Role.CIP, Role.CP) else None
        by_territory[territory_id].append(user)
    month = now.strftime("%Y-%m")
    sent = 0
    for territory_id, users in by_territory.items():
        readers = select(User.id).where(User.is_active.is_(True))
        if territory_id is None:
            readers = readers.where(User.role == Role.ADMIN)
        else:
            readers = readers.where(User.role == Role.COORDINATOR, User.territory_id == territory_id)
        for reader_id in session.scalars(readers.order_by(User.id)):
            names = [user.full_name for user in users if user.id != reader_id]
            if not names:
                continue
            sent += notify(
                session,
                user_id=reader_id,
                kind="unused_accounts",
                message=_message(names),
                link="/comptes",
                key=f"unused_accounts:{territory_id or 'national'}:{month}",
            )
    return sent
