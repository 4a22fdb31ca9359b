"""Keys the web layer derives from the application's secret and hands to the services (which
never import Flask): one key per purpose, so a digest made for one use says nothing about
another, and the secret itself never leaves the configuration."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def derived_key(purpose: str) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"referral:{purpose}".encode(), hashlib.sha256).digest()


def pseudonym_key() -> bytes:
    """The key of the office hours' pseudonyms (`referral.partners.office_hours.pseudonym`)."""
    return derived_key("office-hours-pseudonym")
