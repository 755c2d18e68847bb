"""Django settings: everything a deployment changes comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from hanoi247.config import data_dir, load_node_config, secret_key
from hanoi247.evidence.storage import evidence_storages

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
NODE = load_node_config()

SECRET_KEY = secret_key()
DEBUG = os.environ.get("HANOI247_DEBUG") == "1"
_public = urlsplit(NODE.base_url)
ALLOWED_HOSTS = os.environ.get("HANOI247_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
if _public.hostname and _public.hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public.hostname)
# Forms posted through the node's public URL (behind a TLS reverse proxy) pass the CSRF check.
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"] if _public.scheme and _public.netloc else []
if os.environ.get("HANOI247_TLS_PROXY") == "1" or _public.scheme == "https":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "hanoi247.core",
    "hanoi247.audit",
    "hanoi247.accounts",
    "hanoi247.directory",
    "hanoi247.federation",
    "hanoi247.cooperation",
    "hanoi247.reports",
    "hanoi247.evidence",
    "hanoi247.victims",
    "hanoi247.indicators",
    "hanoi247.operations",
]

MIDDLEWARE = [
    # First, so that it also compresses what WhiteNoise serves; pages, CSS, JS and JSON only, never
    # evidence streams (docs/adr/0017-six-languages-gzip-and-axe-in-the-browser-tests.md, with BREACH).
    "hanoi247.core.compression.TextGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "hanoi247.core.middleware.ContentSecurityPolicyMiddleware",
    "hanoi247.core.middleware.RefuseNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hanoi247.urls"
WSGI_APPLICATION = "hanoi247.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hanoi247.core.context.node",
            ]
        },
    }
]

_default_db = f"sqlite:///{DATA_DIR / 'node.sqlite3'}"
# Connections are kept (and checked before reuse): opening one to PostgreSQL costs more than
# a whole delivery.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=int(os.environ.get("HANOI247_CONN_MAX_AGE", 300)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the worker read while one writes; IMMEDIATE takes the
    # write lock at BEGIN so that two writers queue instead of failing on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        # Checkpoints are the worker's job (every poll), not a commit's that happens to
        # cross the threshold: a large one here is only the safety net if no worker runs.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=20000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cooperation:desk"
LOGOUT_REDIRECT_URL = "accounts:login"
OTP_TOTP_ISSUER = f"Hanoi 24/7 {NODE.state}"

# Named per node: browsers do not separate cookies by port, and the demo runs every node on
# 127.0.0.1 — with one cookie name, logging in to one node would log you out of the other.
SESSION_COOKIE_NAME = f"h247_{NODE.state.lower()}_session"
CSRF_COOKIE_NAME = f"h247_{NODE.state.lower()}_csrf"
LANGUAGE_COOKIE_NAME = f"h247_{NODE.state.lower()}_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600  # one shift
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("ar", "العربية"),
    ("zh-hans", "中文"),
    ("en", "English"),
    ("fr", "Français"),
    ("ru", "Русский"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times in each locale's own format; English as UN desks write it (formats/en/formats.py).
FORMAT_MODULE_PATH = ["hanoi247.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# Evidence (age files): on local disk by default, in an S3-compatible object store with
# HANOI247_EVIDENCE_STORAGE=s3 (see docs/evidence.md). Uploads are staged under the data
# directory until they are sealed.
STORAGES = evidence_storages(os.environ, DATA_DIR)
EVIDENCE_STAGING_DIR = Path(os.environ.get("HANOI247_EVIDENCE_STAGING_DIR", DATA_DIR / "evidence-staging"))
EVIDENCE_MAX_BYTES = int(os.environ.get("HANOI247_EVIDENCE_MAX_BYTES", 1 << 40))
EVIDENCE_CHUNK_BYTES = int(os.environ.get("HANOI247_EVIDENCE_CHUNK_BYTES", 16 << 20))

# Federation: how long a message stays valid and how much clock skew we tolerate.
FEDERATION_MESSAGE_TTL_SECONDS = int(os.environ.get("HANOI247_MESSAGE_TTL", 7 * 24 * 3600))
FEDERATION_CLOCK_SKEW_SECONDS = 300
FEDERATION_MAX_ENVELOPE_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * FEDERATION_MAX_ENVELOPE_BYTES
FEDERATION_RETRY_BASE_SECONDS = float(os.environ.get("HANOI247_RETRY_BASE", 1.0))
FEDERATION_RETRY_MAX_SECONDS = 600.0
DIRECTORY_REFRESH_SECONDS = int(os.environ.get("HANOI247_DIRECTORY_REFRESH", 60))
DIRECTORY_VALIDITY_SECONDS = int(os.environ.get("HANOI247_DIRECTORY_VALIDITY", 7 * 24 * 3600))

# The 24/7 desk's alerts by e-mail (docs/operations.md): off unless a relay is named.
EMAIL_HOST = os.environ.get("HANOI247_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("HANOI247_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("HANOI247_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HANOI247_EMAIL_PASSWORD") or (
    Path(os.environ["HANOI247_EMAIL_PASSWORD_FILE"]).read_text().strip()
    if os.environ.get("HANOI247_EMAIL_PASSWORD_FILE")
    else ""
)
EMAIL_USE_TLS = os.environ.get("HANOI247_EMAIL_TLS") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("HANOI247_EMAIL_FROM", f"hanoi247-{NODE.state.lower()}@localhost")
# /metrics answers a bearer token (HANOI247_METRICS_TOKEN[_FILE]) or these client addresses.
METRICS_TOKEN = os.environ.get("HANOI247_METRICS_TOKEN") or (
    Path(os.environ["HANOI247_METRICS_TOKEN_FILE"]).read_text().strip()
    if os.environ.get("HANOI247_METRICS_TOKEN_FILE")
    else ""
)
METRICS_ALLOWED_ADDRESSES = os.environ.get("HANOI247_METRICS_ALLOW", "127.0.0.1,::1").split(",")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "hanoi247.operations.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("HANOI247_LOG_FORMAT") == "json" else "plain",
        }
    },
    "loggers": {"hanoi247": {"handlers": ["console"], "level": os.environ.get("HANOI247_LOG_LEVEL", "INFO")}},
}
