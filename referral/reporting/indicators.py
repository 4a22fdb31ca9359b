"""Every indicator of issue 17 (points 1–6) for one scope, period and programme, as a `Report`.

The computations live by subject — `activity`, `exits` (exits and entry → exit), `phc`,
`followups`, `referrals` — each a few grouped statements over the period, never one per person.
This module only puts them together; who may ask for which scope is `services.py`'s business,
and small counts are protected there too (`figures.protect`).
"""

from __future__ import annotations

from referral.reporting.activity import activity
from referral.reporting.context import Context
from referral.reporting.exits import entry_exit, exits
from referral.reporting.figures import Report, Section
from referral.reporting.followups import follow_ups
from referral.reporting.phc import phc
from referral.reporting.referrals import referrals

SECTIONS = (
    ("activity", "Activité", activity),
    ("exits", "Sorties", exits),
    ("entry_exit", "De l'entrée à la sortie", entry_exit),
    ("phc", "Premières Heures en Chantier", phc),
    ("follow_ups", "Après la sortie", follow_ups),
    ("referrals", "Orientations", referrals),
)


def compute(ctx: Context) -> Report:
    """The indicators, exact (unprotected)."""
    sections = []
    for key, title, build in SECTIONS:
        tables = build(ctx)
        if tables:
            sections.append(Section(key, title, tuple(tables)))
    return Report(
        scope_label=ctx.scope.label,
        period_label=ctx.period.label,
        programme_label=ctx.programme.label if ctx.programme else "Convergence et Premières Heures",
        sections=tuple(sections),
    )
