"""How opsdesk's processes log: plain lines by default, JSON lines (one object a line: time,
level, logger, message, exception, and the request's id and path during a request) with
``OPSDESK_LOG_FORMAT=json``, for the web server, the worker and every command alike.

Whatever the format, the secrets opsdesk is configured with (the SMTP and IMAP passwords, the
database password, the secret key, the metrics token) and one-time sign-in link tokens are
masked in every line before it is written: a library that logs an exception carrying one of
them, or a debug line someone turned on, cannot leak it.

Only the standard library is imported here: Granian's main process, which has no Django,
formats its own lines with these classes too (``opsdesk serve``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

MASK = "****"
# Shorter values are words rather than secrets; masking them would garble every line.
MIN_SECRET_LENGTH = 6
SECRET_VARIABLES = ("OPSDESK_SECRET_KEY", "OPSDESK_SMTP_PASSWORD", "OPSDESK_IMAP_PASSWORD",
                    "OPSDESK_METRICS_TOKEN", "OPSDESK_S3_SECRET_ACCESS_KEY")
# A one-time sign-in link is a password for its lifetime, and so is a mailed one-click
# verification link (notify/verification.py): their tokens are part of the path.
SIGN_IN_LINK = re.compile(r"(/accounts/login/link/|/verify/)[^/\s\"'?]+")
# A request id a proxy may hand us (nginx's $request_id, a load balancer's trace id).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_request: ContextVar[tuple[str, str] | None] = ContextVar("opsdesk_request", default=None)


def configured_secrets() -> list[str]:
    """Every secret value this process knows, longest first, in the forms it may appear."""
    values = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    database_url = os.environ.get("OPSDESK_DATABASE_URL", "")
    if database_url:
        values.append(unquote(urlsplit(database_url).password or ""))
    values.append(_settings_secret_key())
    forms = {form for value in values if len(value) >= MIN_SECRET_LENGTH
             for form in (value, json.dumps(value)[1:-1])}
    return sorted(forms, key=len, reverse=True)


def _settings_secret_key() -> str:
    """The key generated into the data folder is not in the environment: ask Django, if this
    process has it configured."""
    try:
        from django.conf import settings

        return str(settings.SECRET_KEY) if settings.configured else ""
    except Exception:  # no Django here (Granian's main process), or settings that cannot load
        return ""


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return SIGN_IN_LINK.sub(rf"\g<1>{MASK}", text)


class ScrubbingFormatter(logging.Formatter):
    """The plain format, with every configured secret masked."""

    def __init__(self, fmt: str | None = PLAIN_FORMAT, *args: Any, **kwargs: Any) -> None:
        super().__init__(fmt, *args, **kwargs)
        self._secrets: list[str] | None = None

    @property
    def secrets(self) -> list[str]:
        # Read at the first line rather than at configuration: Django configures logging
        # before its settings have finished loading.
        if self._secrets is None:
            self._secrets = configured_secrets()
        return self._secrets

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record), self.secrets)


class JsonFormatter(ScrubbingFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, exception (the
    traceback, when there is one), request_id and path (during a request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Python's warnings are written to stderr as they are, which would break the stream
        # of JSON lines: log them instead (logger py.warnings).
        logging.captureWarnings(True)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        if (request := _request.get()) is not None:
            line["request_id"], line["path"] = request
        return json.dumps({key: scrub(value, self.secrets) for key, value in line.items()},
                          ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` setting for ``log_format`` (plain or json)."""
    formatter = "json" if log_format == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"()": "opsdesk.runtime.logs.ScrubbingFormatter"},
            "json": {"()": "opsdesk.runtime.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": formatter}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # One line per task run drowns the console; failures still show.
            "django_tasks": {"level": "WARNING"},
            "django_tasks_db": {"level": "WARNING"},
            # Axes notes every sign-in; its warnings (each failure, each lock) still show.
            "axes": {"level": "WARNING"},
        },
    }


def granian_config(*, log_format: str) -> dict[str, Any]:
    """Granian's own logging (its main process and its workers' server lines) in the same
    format, for ``--log-config``."""
    formatter = "opsdesk.runtime.logs.JsonFormatter" if log_format == "json" else \
        "opsdesk.runtime.logs.ScrubbingFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"opsdesk": {"()": formatter}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "opsdesk"}},
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


class RequestIds:
    """Gives each request an id, the one a proxy sent in ``X-Request-ID`` when well formed,
    else a new one; its log lines carry it and the answer says it, to find them again.

    The request is known to the log from here until Django has finished with it: Django logs
    an error answer (``django.request``) after the last middleware has returned."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.core.signals import request_finished

        self.get_response = get_response
        request_finished.connect(_forget_request, dispatch_uid="opsdesk.runtime.logs")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        _request.set((request_id, request.path))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _forget_request(**kwargs: Any) -> None:
    _request.set(None)
