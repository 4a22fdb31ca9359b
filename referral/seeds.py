"""The TOML files of `seeds/` and their one reader.

`referral seed` (`seeding.py`) loads them into the database through the services; the benches'
generated data (`bench/synthetic.py`) reads the same reference lists and demo distributions with
no database at all. So the reader sits here, below both, and imports neither SQLAlchemy nor Flask.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from referral.config import PROJECT_ROOT

SEEDS_PATH = PROJECT_ROOT / "seeds"


def load_seed_file(relative_path: str, seeds_path: Path = SEEDS_PATH) -> dict[str, Any]:
    with (seeds_path / relative_path).open("rb") as handle:
        return tomllib.load(handle)
