"""How long a request may wait for the database.

A request that waits for SQLite's write lock holds one of the web server's threads: waiting
the connection's full timeout (20 s) while a backup, an import or a stuck process holds the
lock would leave no thread for anyone else, health checks included. A request therefore waits
at most ``OPSDESK_REQUEST_LOCK_WAIT_SECONDS`` (5 s) and is then answered 503 with Retry-After
(a JSON error under /api/, opsdesk/api_errors.py; otherwise a page that reloads itself,
web/views/errors.py). The worker and commands keep the connection's own timeout.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from opsdesk.runtime.sqlite.base import lock_wait


class BoundedDatabaseWaits:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with lock_wait(settings.OPSDESK_REQUEST_LOCK_WAIT_SECONDS):
            return self.get_response(request)
