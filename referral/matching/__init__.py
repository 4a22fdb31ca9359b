"""The matching engine (« moteur d'orientation »): pure, no Flask, no database session.

It takes plain snapshots and returns plain results (DESIGN §5, §6):

- `snapshot`: `ParticipantSnapshot`, `OpenNeed`, `OpportunitySnapshot`, `CriterionSnapshot`,
  `ReferralHistory`, `ReferenceTables` — what the loader builds from the database;
- `index`: `MatchingIndex(opportunities, reference)` — built once, per territory; `.match(participant,
  today, history)` gives a `proposals.ProposalSet` (`.eligible(limit)`, `.near_misses(limit)`,
  `.to_dict(limit)` in the API shape); `.updated(upserted, removed_ids)` after a change;
- `table.ParticipantTable` + `reverse.reverse_match(opportunity, table)`: who fits one opportunity;
- `batch.match_batch(index, table, k)`: the best opportunities of everybody at once;
- `registry`: the fixed vocabulary of criteria, with French labels and explanation templates;

Names are re-exported lazily, so that importing the registry (the models do, for their CHECK
constraints) does not load NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CriterionSnapshot": "snapshot",
    "OpenNeed": "snapshot",
    "OpportunitySnapshot": "snapshot",
    "ParticipantSnapshot": "snapshot",
    "ReferenceTables": "snapshot",
    "ReferralHistory": "snapshot",
    "MatchingIndex": "index",
    "TerritoryIndex": "index",
    "Proposal": "proposals",
    "ProposalSet": "proposals",
    "ParticipantTable": "table",
    "ReverseMatch": "reverse",
    "reverse_match": "reverse",
    "BatchResult": "batch",
    "match_batch": "batch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
