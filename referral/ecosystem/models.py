"""The precomputed national figures of the ecosystem (« chiffres nationaux »).

Why a table: the national team's page shows every territory's figures side by side and the
national graph's analytics. At the scale the service is built for (DESIGN §10: 100 territories,
50,000 partners, ~1,000,000 edges) reading and analysing all of that takes far longer than a
request may, so the scheduled job « network » computes it (`services.precompute_national_figures`)
and the page only reads these rows — one query, whatever the size of the country.

One row per scope: ``national`` (the national graph's analytics and the national partnerships ×
territories matrix) and ``territory:<slug>`` (one territory's headline figures). `figures` is
plain JSON (counts and French explanations, never a participant); `computed_at` is shown on the
page (« calculé le … ») so nobody mistakes last night's figures for live ones.

This module, `loader.py` and `services.py` are the database side of the network picture; the pure
engine they call (`referral.network`: snapshot, graph, analytics, svg, export) never imports them.
The table keeps its name, `network_figures`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db import Base, utcnow

NATIONAL_SCOPE = "national"
TERRITORY_SCOPE_PREFIX = "territory:"


def territory_scope(slug: str) -> str:
    """The `scope` key of a territory's row: ``territory:lyon``."""
    return f"{TERRITORY_SCOPE_PREFIX}{slug}"


class NetworkFigures(Base):
    """The figures of one scope as computed by the last run of the « network » job."""

    __tablename__ = "network_figures"
    __table_args__ = (
        CheckConstraint("scope <> ''", name="scope_not_empty"),
        CheckConstraint(
            "(scope = 'national') = (territory_id IS NULL)", name="territory_iff_territory_scope"
        ),
        CheckConstraint("seconds >= 0", name="seconds_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), unique=True)
    # The territory of a ``territory:<slug>`` row; a deleted territory takes its row with it.
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How long the computation of this scope took, for the team (is the job getting slow?).
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
