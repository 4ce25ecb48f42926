"""Django settings for opsdesk.

Every setting an operator may change is read from an ``OPSDESK_*`` environment variable here,
with a default that suits the embedded single-machine mode (SQLite under ``var/``).
"""

import importlib.util
import ipaddress
import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from opsdesk.runtime.logs import logging_config

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


def _networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or networks (``10.0.0.5,10.1.0.0/16``)."""
    try:
        return [ipaddress.ip_network(part.strip(), strict=False)
                for part in os.environ.get(name, "").split(",") if part.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc


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
    "axes",
    # Only for its system checks on CONTENT_SECURITY_POLICY: it has no models.
    "csp",
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
    "opsdesk.knowledge",
    "opsdesk.reviews",
    "opsdesk.imports",
    "opsdesk.runtime",
    "opsdesk.demo",
    "opsdesk.web",
]

MIDDLEWARE = [
    # Every request gets an id its log lines carry (runtime/logs.py).
    "opsdesk.runtime.logs.RequestIds",
    # /healthz, /readyz and /metrics, answered before host checks and redirects apply.
    "opsdesk.runtime.operations.OperationsEndpoints",
    "django.middleware.security.SecurityMiddleware",
    "opsdesk.web.content_security.ContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that reads or writes the database (sessions, the signed-in person).
    "opsdesk.runtime.request_limits.BoundedDatabaseWaits",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opsdesk.accounts.middleware.UserPreferencesMiddleware",
    # Inside the language middleware, so API errors are in the caller's language.
    "opsdesk.api_errors.ApiErrorMiddleware",
    # Django's, opening the storage only for a request that adds or shows a message.
    "opsdesk.web.lazy_messages.LazyMessages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by the throttle into the lock page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsdesk.urls"
WSGI_APPLICATION = "opsdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# The sign-in throttle (django-axes, opsdesk/accounts/throttle.py). Every password check goes
# through it: the sign-in page, the admin's (which is the same page) and anything else calling
# authenticate(). Failures are counted in the database, so every server process shares them:
# five for one account from one address lock that pair for 15 minutes (the account's owner
# elsewhere is not locked out); thirty from one address, across any accounts, lock the address.
AUTHENTICATION_BACKENDS = [
    # Axes' refusal, with ModelBackend's other methods: the first backend is the one a session
    # opened without a password (force_login) is bound to, so it must also load users.
    "axes.backends.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "opsdesk.accounts.throttle.SignInThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
OPSDESK_SIGN_IN_FAILURES_PER_ADDRESS = 30
AXES_COOLOFF_TIME = timedelta(minutes=15)
# A right password clears the failures; trying during a lock does not prolong it.
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "opsdesk.accounts.throttle.username_of"
AXES_CLIENT_IP_CALLABLE = "opsdesk.accounts.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "opsdesk.web.views.account.locked_out"
# Successful sign-ins are not logged: that table would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Proxies in front of opsdesk (addresses or networks). Only a request from one of them has its
# X-Forwarded-For read (the right-most address that is not a trusted proxy is the client) and
# its X-Forwarded-Proto believed; anyone else's headers are ignored.
OPSDESK_TRUSTED_PROXIES = _networks("OPSDESK_TRUSTED_PROXIES")

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
    # Each request checks its kept connection first, so a database restart costs no errors
    # once the database is back.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600,
                                                  conn_health_checks=True)}
else:
    # How a commit reaches the disk (README, durability). NORMAL: the log is synced by the
    # checkpoint the worker runs every second, so a power cut can lose about the last second of
    # commits (a crash of opsdesk itself loses none). FULL syncs every commit, under the write
    # lock: a create took ~55% and a storm's notification ~30% longer (python -m
    # bench.durability); worth it on a disk whose syncs are cheap (one with power-loss
    # protection).
    OPSDESK_SQLITE_SYNCHRONOUS = os.environ.get("OPSDESK_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if OPSDESK_SQLITE_SYNCHRONOUS not in ("NORMAL", "FULL"):
        raise ImproperlyConfigured("OPSDESK_SQLITE_SYNCHRONOUS must be NORMAL or FULL.")
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
                # How long a write waits for another's lock before giving up.
                "timeout": float(os.environ.get("OPSDESK_SQLITE_TIMEOUT", "20")),
                # wal_autocheckpoint: the worker checkpoints every second (runtime/sqlite), so a
                # request's commit does not; it does only should the log pass 8,000 pages
                # (32 MB) with no worker running. journal_size_limit: the log file, which SQLite
                # reuses rather than shrinks, is cut back to 16 MB when it starts over after a
                # checkpoint (a storm left it at 35 MB for good). mmap_size=0: a memory-mapped
                # database counts every page read in each process's resident memory (the
                # `make run` tree read 20,000 tickets' queue at 305 MiB, 192 without;
                # bench.memory), and reads were no faster with it.
                "init_command": (
                    f"PRAGMA journal_mode=WAL; PRAGMA synchronous={OPSDESK_SQLITE_SYNCHRONOUS}; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; "
                    "PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY; "
                    "PRAGMA wal_autocheckpoint=8000; PRAGMA journal_size_limit=16777216;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PASSWORD_HASHERS = [
    "opsdesk.accounts.hashers.Argon2idHasher",
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
# A container image collects them at build time, outside the data volume.
STATIC_ROOT = Path(os.environ.get("OPSDESK_STATIC_ROOT") or DATA_DIR / "static").resolve()


def _attachment_storage() -> dict[str, Any]:
    """Where uploaded files go: a folder (the data folder's ``media``, or OPSDESK_UPLOADS_DIR,
    which several machines may share), or an S3-compatible bucket when OPSDESK_S3_BUCKET is
    set (tickets/bucket.py). The bucket's key is taken from the environment, never written
    anywhere, and masked in every log line (runtime/logs.py)."""
    bucket = os.environ.get("OPSDESK_S3_BUCKET", "").strip()
    if not bucket:
        # Written whole or not at all, and flushed to disk (tickets/storage.py).
        return {"BACKEND": "opsdesk.tickets.storage.AttachmentStorage"}
    if not all(importlib.util.find_spec(name) for name in ("storages", "boto3")):
        raise ImproperlyConfigured("OPSDESK_S3_BUCKET needs django-storages and boto3: "
                                   "pip install 'opsdesk[s3]'.")
    endpoint = os.environ.get("OPSDESK_S3_ENDPOINT_URL", "").strip() or None
    # A server of one's own (MinIO, Ceph) is reached by path: bucket names under its host
    # name need a DNS entry per bucket.
    addressing = os.environ.get("OPSDESK_S3_ADDRESSING_STYLE", "").strip().lower() or (
        "path" if endpoint else "auto")
    if addressing not in ("path", "virtual", "auto"):
        raise ImproperlyConfigured("OPSDESK_S3_ADDRESSING_STYLE must be path, virtual or auto.")
    return {"BACKEND": "opsdesk.tickets.bucket.BucketStorage", "OPTIONS": {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": os.environ.get("OPSDESK_S3_REGION", "").strip() or None,
        # Unset: boto3's own chain (AWS_* variables, an instance's role).
        "access_key": os.environ.get("OPSDESK_S3_ACCESS_KEY_ID", "").strip() or None,
        "secret_key": os.environ.get("OPSDESK_S3_SECRET_ACCESS_KEY", "").strip() or None,
        "location": os.environ.get("OPSDESK_S3_PREFIX", "").strip().strip("/"),
        "addressing_style": None if addressing == "auto" else addressing,
        # A CA bundle for a server whose certificate is one's own; unset: the system's.
        "verify": os.environ.get("OPSDESK_S3_CA_BUNDLE", "").strip() or None,
    }}


STORAGES = {
    "default": _attachment_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded files, when they are kept in a folder. Several machines: one folder they all mount
# (NFS, CephFS), or a bucket instead (above).
MEDIA_ROOT = Path(os.environ.get("OPSDESK_UPLOADS_DIR") or DATA_DIR / "media").resolve()
# Attachments (browser, API, mail) larger than this are refused; Django's own request limit
# follows so an upload of the allowed size is not cut short.
OPSDESK_ATTACHMENT_MAX_BYTES = int(os.environ.get("OPSDESK_ATTACHMENT_MAX_BYTES", str(20 << 20)))
DATA_UPLOAD_MAX_MEMORY_SIZE = OPSDESK_ATTACHMENT_MAX_BYTES + (1 << 20)
# The first handler refuses an upload over that limit before reading it (tickets/uploads.py);
# Django's keep smaller files in memory and larger ones in a temporary file.
FILE_UPLOAD_HANDLERS = [
    "opsdesk.tickets.uploads.UploadLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "opsdesk.web.views.errors.csrf_failure"

# opsdesk's pages load scripts, styles and everything else only from opsdesk itself, so that
# even HTML that escaped escaping could not run a script or load anything from elsewhere. The
# admin (its own inline styles) and the API (its docs page) are left out. Non-HTML answers get
# the header too, where browsers ignore it or it only tightens (an SVG opened on its own).
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/api/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# People reach opsdesk over HTTPS (OPSDESK_SECURE_COOKIES is the older name): cookies only over
# HTTPS, and browsers told to use nothing else (HSTS) for OPSDESK_HSTS_SECONDS.
OPSDESK_HTTPS = _env_bool("OPSDESK_HTTPS", _env_bool("OPSDESK_SECURE_COOKIES", False))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = OPSDESK_HTTPS
SECURE_HSTS_SECONDS = (int(os.environ.get("OPSDESK_HSTS_SECONDS", str(365 * 86400)))
                       if OPSDESK_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("OPSDESK_HSTS_INCLUDE_SUBDOMAINS", False)
if OPSDESK_TRUSTED_PROXIES:
    # The TLS-terminating proxy says which scheme the browser used (it must overwrite the
    # header); without a trusted proxy nobody's claim is believed.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Redirecting http:// to https:// needs to know the browser's scheme: only with a trusted proxy.
SECURE_SSL_REDIRECT = _env_bool("OPSDESK_SSL_REDIRECT",
                                OPSDESK_HTTPS and bool(OPSDESK_TRUSTED_PROXIES))
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain is the domain owner's decision, not opsdesk's: it would break
    # any plain-HTTP host under the same name (OPSDESK_HSTS_INCLUDE_SUBDOMAINS turns it on).
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    # Preloading commits the whole domain to HTTPS in browsers for months; never by default.
    "security.W021",
    # Off: the proxy in front redirects http:// (without a trusted proxy Django cannot even
    # tell http:// from https://, and would redirect every request forever).
    *([] if SECURE_SSL_REDIRECT else ["security.W008"]),
]

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


def _served_at() -> str:
    """Where `opsdesk run` and `opsdesk serve` listen (OPSDESK_HOST, OPSDESK_PORT), as the start
    of a link; a server listening on every address is reached by the machine's name."""
    host = os.environ.get("OPSDESK_HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{os.environ.get('OPSDESK_PORT', '').strip() or '8000'}"


# Where people open opsdesk: the start of every link in a notification. Behind a proxy, or
# under another name than the one the server listens on, say it; otherwise it follows the
# address the desk is served on.
OPSDESK_BASE_URL = os.environ.get("OPSDESK_BASE_URL", "").strip() or _served_at()
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
# A message larger than this is refused (mailgate exits 65; fetchmail and mailgate --batch
# quarantine it with its first 64 KiB, and go on with the rest).
OPSDESK_MAIL_MAX_BYTES = int(os.environ.get("OPSDESK_MAIL_MAX_BYTES", str(64 << 20)))

# The human-readable ticket key is this prefix and the ticket's number: OPS-1042.
OPSDESK_TICKET_KEY_PREFIX = os.environ.get("OPSDESK_TICKET_KEY_PREFIX", "OPS")
# A closed ticket may be reopened for this many days (after that, "it happened again" files a
# new ticket linked as a recurrence); a fix waiting for verification is closed by opsdesk after
# this many working days of its SLA calendar without an answer (reminded once a working day).
OPSDESK_REOPEN_DAYS = int(os.environ.get("OPSDESK_REOPEN_DAYS", "7"))
OPSDESK_VERIFICATION_DAYS = int(os.environ.get("OPSDESK_VERIFICATION_DAYS", "3"))
if OPSDESK_REOPEN_DAYS < 0 or OPSDESK_VERIFICATION_DAYS < 1:
    raise ImproperlyConfigured("OPSDESK_REOPEN_DAYS must be 0 or more and "
                               "OPSDESK_VERIFICATION_DAYS 1 or more.")
# The worker archives a closed ticket this many days after it was closed (0: never; the duty
# engineer may archive one at once). Urgent tickets and emergencies wait for their
# post-incident review.
OPSDESK_ARCHIVE_AFTER_DAYS = int(os.environ.get("OPSDESK_ARCHIVE_AFTER_DAYS", "30"))
if OPSDESK_ARCHIVE_AFTER_DAYS < 0:
    raise ImproperlyConfigured("OPSDESK_ARCHIVE_AFTER_DAYS must be 0 (never) or more.")
# In-app notifications read this many days ago are deleted by the worker (0: kept forever);
# unread ones stay, and each ticket's timeline keeps what happened.
OPSDESK_NOTICE_DAYS = int(os.environ.get("OPSDESK_NOTICE_DAYS", "180"))
if OPSDESK_NOTICE_DAYS < 0:
    raise ImproperlyConfigured("OPSDESK_NOTICE_DAYS must be 0 (keep) or more.")
# How long a request waits for the database's write lock before it is answered 503 (the
# worker and commands wait the connection's own timeout, OPSDESK_SQLITE_TIMEOUT).
OPSDESK_REQUEST_LOCK_WAIT_SECONDS = float(os.environ.get("OPSDESK_REQUEST_LOCK_WAIT_SECONDS", "5"))
# How long intake (Alertmanager, Zabbix, webhooks) waits for the database before answering 503,
# so that the sender retries well inside its own timeout.
OPSDESK_INTAKE_LOCK_WAIT_SECONDS = float(os.environ.get("OPSDESK_INTAKE_LOCK_WAIT_SECONDS", "5"))
# How a new ticket is dispatched (routed, its SLA clocks started, people told): "worker" (a
# moment after it is filed, in batches: filing answers sooner and a storm costs less) or
# "inline" (in the filing transaction itself).
OPSDESK_DISPATCH = os.environ.get("OPSDESK_DISPATCH", "worker").lower()
if OPSDESK_DISPATCH not in ("worker", "inline"):
    raise ImproperlyConfigured("OPSDESK_DISPATCH must be 'worker' or 'inline'.")
OPSDESK_PAGE_SIZE_MAX = 200
# How often an open workspace queue asks for new tickets.
OPSDESK_QUEUE_REFRESH_SECONDS = int(os.environ.get("OPSDESK_QUEUE_REFRESH_SECONDS", "20"))

# Plain lines, or JSON lines for a log collector; secrets masked in both (runtime/logs.py).
OPSDESK_LOG_FORMAT = os.environ.get("OPSDESK_LOG_FORMAT", "plain").strip().lower()
if OPSDESK_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("OPSDESK_LOG_FORMAT must be plain or json.")
LOGGING = logging_config(log_format=OPSDESK_LOG_FORMAT,
                         level=os.environ.get("OPSDESK_LOG_LEVEL", "INFO"))

# Who may read /metrics: whoever shows this token (Authorization: Bearer), and clients in
# these networks (behind trusted proxies, the client they forwarded for). Neither: nobody.
OPSDESK_METRICS_TOKEN = os.environ.get("OPSDESK_METRICS_TOKEN", "").strip()
if OPSDESK_METRICS_TOKEN and len(OPSDESK_METRICS_TOKEN) < 16:
    # Nothing slows down guessing it: it must be long.
    raise ImproperlyConfigured("OPSDESK_METRICS_TOKEN must be at least 16 characters.")
OPSDESK_METRICS_ALLOW = _networks("OPSDESK_METRICS_ALLOW")
