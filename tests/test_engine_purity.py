"""The pure engines import neither Flask nor SQLAlchemy, nor any domain package (DESIGN §5).

`referral.matching`, `referral.network` and `referral.search` take plain snapshots and return plain
results: they are tested and benchmarked without a database or a request. Every module of each
engine is imported in a fresh interpreter, so a module added later is covered too.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

ENGINES = ("matching", "network", "search")

CHECK = """
import importlib, pkgutil, sys
package = importlib.import_module("referral.{engine}")
for module in pkgutil.walk_packages(package.__path__, "referral.{engine}."):
    importlib.import_module(module.name)
engines = {engines!r}
print(sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("flask", "sqlalchemy")
    or (name.startswith("referral.") and name.split(".")[1] not in engines)
))
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_the_engine_imports_neither_flask_nor_sqlalchemy_nor_a_domain(engine: str) -> None:
    code = CHECK.format(engine=engine, engines=ENGINES)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
