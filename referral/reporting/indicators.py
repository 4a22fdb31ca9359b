"""Every indicator of issue 17 (points 1–6) for one scope, period and programme, as a `Report`.

The computations live by subject — `activity`, `exits` (exits and entry → exit), `phc`,
`followups`, `referrals` — each a few grouped statements over the period, never one per person.
This module only puts them together — read side by side by a few connections (`parallel`);
who may ask for which scope is `services.py`'s business, and small counts are protected there too
(`figures.protect`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from referral.reporting import parallel
from referral.reporting.activity import activity
from referral.reporting.context import Context
from referral.reporting.exits import entry_exit, exits
from referral.reporting.figures import Report, Section, Table
from referral.reporting.followups import follow_ups
from referral.reporting.phc import phc
from referral.reporting.referrals import needs_without_answer, referrals

Part = Callable[[Context], list[Table]]

# Each section's tables, from its parts in this order.
SECTIONS: tuple[tuple[str, str, tuple[Part, ...]], ...] = (
    ("activity", "Activité", (activity,)),
    ("exits", "Sorties", (exits,)),
    ("entry_exit", "De l'entrée à la sortie", (entry_exit,)),
    ("phc", "Premières Heures en Chantier", (phc,)),
    ("follow_ups", "Après la sortie", (follow_ups,)),
    ("referrals", "Orientations", (referrals, needs_without_answer)),
)
# The parts as they are handed to the readers: longest first, so that they end together. National
# benchmark, SQLite, ms: activity 330, needs without answer 315, referrals 240, Premières Heures
# 85, entry → exit 82, follow-ups 51, exits 14 (two readers: about 560 each).
PARTS: tuple[Part, ...] = (activity, needs_without_answer, referrals, phc, entry_exit, follow_ups, exits)


# PostgreSQL settings for the rest of the report's transaction (`SET LOCAL`: gone at its end).
# - work_mem: the national report groups every path by person and every open need by domain;
#   under the default 4 MB those sorts and hashes spill to disk (`EXPLAIN ANALYZE`: external
#   merge, hash batches written). 64 MB holds them for 150,000 people; one report at a time per
#   connection, so the memory is bounded by the pool.
# - random_page_cost: the rows the indicators read are in the cache (every buffer a hit in
#   `EXPLAIN (ANALYZE, BUFFERS)`), so fetching a row by index costs about what reading it in a
#   scan does. With the default (4, a spinning disk's), a territory's page read all 105,000
#   referrals or 82,000 exits and hashed all 21,000 offers to join its few hundred rows, rather
#   than looking its 1,500 people's rows up by index (issue 17, point 11).
POSTGRESQL_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL random_page_cost = 1.1")


def prepare(ctx: Context) -> None:
    """What each connection reading the report sets first."""
    if not ctx.sqlite:
        for setting in POSTGRESQL_SETTINGS:
            ctx.session.execute(text(setting))


def compute(ctx: Context) -> Report:
    """The indicators, exact (unprotected)."""
    tables = dict(zip(PARTS, parallel.read_parts(ctx, PARTS, prepare), strict=True))
    sections = []
    for key, title, parts in SECTIONS:
        shown = [table for part in parts for table in tables[part]]
        if shown:
            sections.append(Section(key, title, tuple(shown)))
    return Report(
        scope_label=ctx.scope.label,
        period_label=ctx.period.label,
        programme_label=ctx.programme.label if ctx.programme else "Convergence et Premières Heures",
        sections=tuple(sections),
    )
