"""Configuration classes, chosen by the ``REFERRAL_ENV`` environment variable.

``DATABASE_URL`` overrides the embedded SQLite database (``instance/referral.sqlite3``); tests
pass a mapping to `create_app()` instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("REFERRAL_INSTANCE_PATH", PROJECT_ROOT / "instance"))


def default_database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'referral.sqlite3'}"


def instance_secret_key() -> str:
    """A secret key kept in ``instance/`` so sessions survive a restart of the development server."""
    INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_PATH / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class BaseConfig:
    SECRET_KEY: str | None = os.environ.get("REFERRAL_SECRET_KEY")
    DATABASE_URL: str | None = None  # resolved by create_app() from the environment
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    TESTING = False


class DevelopmentConfig(BaseConfig):
    """The embedded set-up of `make run`: SQLite in `instance/`, a key kept beside it."""


class ProductionConfig(BaseConfig):
    """PostgreSQL and HTTPS: the secret key and the database must come from the environment."""

    SESSION_COOKIE_SECURE = True


class TestingConfig(BaseConfig):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_class() -> type[BaseConfig]:
    name = os.environ.get("REFERRAL_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"REFERRAL_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}") from None
