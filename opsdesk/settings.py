"""Django settings for opsdesk.

Every setting an operator may change is read from an ``OPSDESK_*`` environment variable here,
with a default that suits the embedded single-machine mode (SQLite under ``var/``).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# Empty counts as unset: the current directory would collect a database and a secret key.
DATA_DIR = Path(os.environ.get("OPSDESK_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key from the environment, else one generated once and kept in the data folder."""
    if key := os.environ.get("OPSDESK_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("OPSDESK_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("OPSDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("OPSDESK_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "opsdesk.accounts",
    "opsdesk.tickets",
    "opsdesk.routing",
    "opsdesk.intake",
    "opsdesk.sla",
    "opsdesk.notify",
    "opsdesk.inspections",
    "opsdesk.cross_department",
    "opsdesk.emergencies",
    "opsdesk.reports",
    "opsdesk.runtime",
    "opsdesk.demo",
    "opsdesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "opsdesk.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opsdesk.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "opsdesk.urls"
WSGI_APPLICATION = "opsdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = os.environ.get("OPSDESK_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "opsdesk.runtime.sqlite",  # Django's, with prompt write transactions
            "NAME": str(DATA_DIR / "opsdesk.sqlite3"),
            # Keep connections: closing the last one to a WAL database checkpoints it (fsyncs).
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the lock at BEGIN, so two writers queue
                # instead of one failing with "database is locked" on lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # wal_autocheckpoint: the worker checkpoints every second (runtime/sqlite), so a
                # request's commit does not; it does only should the log pass 8,000 pages
                # (32 MB) with no worker running.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; "
                    "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY; "
                    "PRAGMA wal_autocheckpoint=8000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "opsdesk" / "locale"]
TIME_ZONE = os.environ.get("OPSDESK_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Attachments (browser, API, mail) larger than this are refused; Django's own request limit
# follows so an upload of the allowed size is not cut short.
OPSDESK_ATTACHMENT_MAX_BYTES = int(os.environ.get("OPSDESK_ATTACHMENT_MAX_BYTES", str(20 << 20)))
DATA_UPLOAD_MAX_MEMORY_SIZE = OPSDESK_ATTACHMENT_MAX_BYTES + (1 << 20)

SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "opsdesk.web.views.errors.csrf_failure"
SESSION_COOKIE_SECURE = _env_bool("OPSDESK_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Without an SMTP server configured (a laptop, the demo), mail is written to var/mail/ instead
# of failing and retrying against a localhost that has none.
if os.environ.get("OPSDESK_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
EMAIL_HOST = os.environ.get("OPSDESK_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("OPSDESK_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("OPSDESK_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("OPSDESK_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("OPSDESK_SMTP_STARTTLS", False)
EMAIL_USE_SSL = _env_bool("OPSDESK_SMTP_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("OPSDESK_SMTP_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("OPSDESK_FROM_EMAIL", "opsdesk@localhost")

# Where people open opsdesk: the start of every link in a notification.
OPSDESK_BASE_URL = os.environ.get("OPSDESK_BASE_URL", "http://127.0.0.1:8000")
OPSDESK_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("OPSDESK_NOTIFY_MAX_ATTEMPTS", "6"))
OPSDESK_NOTIFY_RETRY_SECONDS = int(os.environ.get("OPSDESK_NOTIFY_RETRY_SECONDS", "60"))
OPSDESK_NOTIFY_RETRY_CAP_SECONDS = int(os.environ.get("OPSDESK_NOTIFY_RETRY_CAP_SECONDS", "3600"))
OPSDESK_NOTIFY_TIMEOUT_SECONDS = float(os.environ.get("OPSDESK_NOTIFY_TIMEOUT_SECONDS", "10"))

# Mail intake. IMAP polling (`opsdesk fetchmail`, and the worker every OPSDESK_IMAP_POLL_SECONDS)
# runs when OPSDESK_IMAP_HOST is set; the password is never logged. Security: ssl (port 993),
# starttls or none (143). Fetched mail is moved to OPSDESK_IMAP_PROCESSED_FOLDER when set,
# otherwise flagged \Seen, and only once its ticket is committed.
OPSDESK_IMAP_HOST = os.environ.get("OPSDESK_IMAP_HOST", "")
OPSDESK_IMAP_SECURITY = os.environ.get("OPSDESK_IMAP_SECURITY", "ssl").lower()
OPSDESK_IMAP_PORT = int(
    os.environ.get("OPSDESK_IMAP_PORT", "993" if OPSDESK_IMAP_SECURITY == "ssl" else "143")
)
OPSDESK_IMAP_USER = os.environ.get("OPSDESK_IMAP_USER", "")
OPSDESK_IMAP_PASSWORD = os.environ.get("OPSDESK_IMAP_PASSWORD", "")
OPSDESK_IMAP_FOLDER = os.environ.get("OPSDESK_IMAP_FOLDER", "INBOX")
OPSDESK_IMAP_PROCESSED_FOLDER = os.environ.get("OPSDESK_IMAP_PROCESSED_FOLDER", "")
OPSDESK_IMAP_POLL_SECONDS = int(os.environ.get("OPSDESK_IMAP_POLL_SECONDS", "60"))
OPSDESK_IMAP_TIMEOUT = float(os.environ.get("OPSDESK_IMAP_TIMEOUT", "30"))
# Who may open a ticket by mail: people with an opsdesk account (matched by address) always;
# anyone else only from these domains (comma-separated; "*" for anyone). Mail from others is
# quarantined for an administrator to look at.
OPSDESK_MAIL_ALLOWED_DOMAINS = [
    d.strip().lower() for d in os.environ.get("OPSDESK_MAIL_ALLOWED_DOMAINS", "").split(",")
    if d.strip()
]
# A message larger than this is refused whole (mailgate exits 65, fetchmail leaves it unread).
OPSDESK_MAIL_MAX_BYTES = int(os.environ.get("OPSDESK_MAIL_MAX_BYTES", str(64 << 20)))

# The human-readable ticket key is this prefix and the ticket's number: OPS-1042.
OPSDESK_TICKET_KEY_PREFIX = os.environ.get("OPSDESK_TICKET_KEY_PREFIX", "OPS")
# How a new ticket is dispatched (routed, its SLA clocks started, people told): "worker" (a
# moment after it is filed, in batches: filing answers sooner and a storm costs less) or
# "inline" (in the filing transaction itself).
OPSDESK_DISPATCH = os.environ.get("OPSDESK_DISPATCH", "worker").lower()
if OPSDESK_DISPATCH not in ("worker", "inline"):
    raise ImproperlyConfigured("OPSDESK_DISPATCH must be 'worker' or 'inline'.")
OPSDESK_PAGE_SIZE_MAX = 200
# How often an open workspace queue asks for new tickets.
OPSDESK_QUEUE_REFRESH_SECONDS = int(os.environ.get("OPSDESK_QUEUE_REFRESH_SECONDS", "20"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPSDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run drowns the console; failures still show.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}
