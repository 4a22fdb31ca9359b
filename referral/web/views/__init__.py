"""Page blueprints of each domain (login, logout and the home pages are in `home.py`, registered first).

Each module defines ``bp``; `blueprints()` lists them for `create_app()`.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint

# One line per domain's pages; the order does not matter.
MODULES = [
    "referral.web.views.cases",
    "referral.web.views.referrals",
    "referral.web.views.partners",
    "referral.web.views.network",
    "referral.web.views.health",
]


def blueprints() -> list[Blueprint]:
    return [import_module(name).bp for name in MODULES]
