"""Configuration classes, chosen by the ``REFERRAL_ENV`` environment variable.

``DATABASE_URL`` overrides the embedded SQLite database (``instance/referral.sqlite3``); tests
pass a mapping to `create_app()` instead. The environment is read when the application is built
(`environment_settings`), never at import time.

With ``REFERRAL_ENV=production`` the service refuses to start (`ConfigurationError`) without an
explicit secret key and a PostgreSQL database: a key generated on the fly would log everyone out
at each restart and differ between workers, and the embedded SQLite file is no production store.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

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


class ConfigurationError(RuntimeError):
    """The service must not start with this configuration; the message says what to set."""


# A secret key shorter than this is too easy to guess for signing session cookies.
MIN_SECRET_KEY_LENGTH = 32


class BaseConfig:
    SECRET_KEY: str | None = None  # REFERRAL_SECRET_KEY, read by environment_settings()
    DATABASE_URL: str | None = None  # resolved by create_app() from the environment
    PRODUCTION = False  # production refuses an unsafe start and sends HSTS
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A page session ends 10 hours after login whatever happens, and after 2 hours without a
    # request (both checked on the server, see referral.web.auth; the cookie's own expiry is
    # only a hint to the browser).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    SESSION_IDLE_LIFETIME = timedelta(hours=2)
    # How many reverse proxies in front of the service append to X-Forwarded-For: their
    # headers are trusted for the client's address, nobody else's (REFERRAL_TRUSTED_PROXY_HOPS).
    TRUSTED_PROXY_HOPS = 0
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    TESTING = False


class DevelopmentConfig(BaseConfig):
    """The embedded set-up of `make run`: SQLite in `instance/`, a key kept beside it."""


class ProductionConfig(BaseConfig):
    """PostgreSQL and HTTPS: the secret key and the database must come from the environment."""

    SESSION_COOKIE_SECURE = True
    PRODUCTION = True


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


def environment_settings() -> dict[str, Any]:
    """The settings the environment gives: the secret key and the number of trusted proxies."""
    settings: dict[str, Any] = {}
    key = os.environ.get("REFERRAL_SECRET_KEY", "").strip()
    if key:
        settings["SECRET_KEY"] = key
    hops = os.environ.get("REFERRAL_TRUSTED_PROXY_HOPS", "").strip()
    if hops:
        if not (hops.isascii() and hops.isdigit() and int(hops) <= 10):
            raise ConfigurationError(
                f"REFERRAL_TRUSTED_PROXY_HOPS={hops!r} : un nombre entier de 0 à 10 est attendu "
                "(le nombre de proxys inverses devant le service)."
            )
        settings["TRUSTED_PROXY_HOPS"] = int(hops)
    return settings


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What keeps a production configuration from starting safely (empty: nothing)."""
    problems: list[str] = []
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"REFERRAL_SECRET_KEY doit être une clé aléatoire d'au moins {MIN_SECRET_KEY_LENGTH} "
            "caractères (par exemple : python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    # A `DATABASE` object is handed in by tests only; a real start names its database by URL.
    if config.get("DATABASE") is None:
        url = config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
        if not url.startswith("postgresql"):
            problems.append(
                "DATABASE_URL doit désigner la base PostgreSQL "
                "(postgresql+psycopg://utilisateur@hôte:5432/base)"
            )
    if os.environ.get("REFERRAL_SMTP_HOST") and not config.get("BASE_URL"):
        # Otherwise the links of invitation and reset e-mails would take the host from the
        # request, which whoever asks for a reset chooses (a link to their own site).
        problems.append(
            "REFERRAL_BASE_URL doit donner l'adresse publique du service (https://…) : "
            "les e-mails d'invitation et de mot de passe oublié y renvoient"
        )
    return problems


# Who must sign in with a second factor (REFERRAL_TWO_FACTOR): the national team always; with
# "health", every role handling health data too (referral.territories.two_factor).
TWO_FACTOR_POLICIES = ("national", "health")


def account_settings() -> dict[str, Any]:
    """The environment's settings for accounts (issue 19): links in e-mails, two-factor, ProConnect."""
    settings: dict[str, Any] = {}
    base_url = os.environ.get("REFERRAL_BASE_URL", "").strip()
    if base_url:
        if not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(
                f"REFERRAL_BASE_URL={base_url!r} : l'adresse publique du service est attendue "
                "(https://convergence.example.org)."
            )
        settings["BASE_URL"] = base_url.rstrip("/")
    policy = os.environ.get("REFERRAL_TWO_FACTOR", "").strip() or "national"
    if policy not in TWO_FACTOR_POLICIES:
        raise ConfigurationError(
            f"REFERRAL_TWO_FACTOR={policy!r} : « national » (équipe nationale seulement) ou « health » "
            "(aussi les CIP et les CP, qui traitent des données de santé)."
        )
    settings["TWO_FACTOR"] = policy
    for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "SCOPE"):
        value = os.environ.get(f"REFERRAL_PROCONNECT_{name}", "").strip()
        if value:
            settings[f"PROCONNECT_{name}"] = value
    return settings
