"""Django settings: everything a deployment changes comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from hanoi247.config import data_dir, load_node_config, secret_key

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hanoi247.core.middleware.ContentSecurityPolicyMiddleware",
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
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# Federation: how long a message stays valid and how much clock skew we tolerate.
FEDERATION_MESSAGE_TTL_SECONDS = int(os.environ.get("HANOI247_MESSAGE_TTL", 7 * 24 * 3600))
FEDERATION_CLOCK_SKEW_SECONDS = 300
FEDERATION_MAX_ENVELOPE_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * FEDERATION_MAX_ENVELOPE_BYTES
FEDERATION_RETRY_BASE_SECONDS = float(os.environ.get("HANOI247_RETRY_BASE", 1.0))
FEDERATION_RETRY_MAX_SECONDS = 600.0
DIRECTORY_REFRESH_SECONDS = int(os.environ.get("HANOI247_DIRECTORY_REFRESH", 60))
DIRECTORY_VALIDITY_SECONDS = int(os.environ.get("HANOI247_DIRECTORY_VALIDITY", 7 * 24 * 3600))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"hanoi247": {"handlers": ["console"], "level": os.environ.get("HANOI247_LOG_LEVEL", "INFO")}},
}
