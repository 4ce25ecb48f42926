"""The operator's endpoints: ``/healthz`` (the process answers; no database), ``/readyz``
(ready to serve: runtime/health.py) and ``/metrics`` (Prometheus: runtime/metrics.py).

They are answered first, before the rest of the middleware. Probes and scrapers call a
process by its address (a container's IP, ``127.0.0.1`` in a HEALTHCHECK), not by the
site's name, and over plain HTTP inside the network: host validation (``ALLOWED_HOSTS``) and
the HTTPS redirect would refuse them, and sessions, languages or the sign-in throttle have
nothing to do with them. None of them builds a URL from the Host header or says anything
secret, so answering whichever host was asked is safe; ``/metrics`` has its own access rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from prometheus_client.exposition import choose_encoder

from opsdesk.runtime import health, metrics

PROBES = ("/healthz", "/readyz")
METRICS = "/metrics"


class OperationsEndpoints:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in (*PROBES, METRICS):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _json({"code": "method_not_allowed"}, 405)
            response["Allow"] = "GET, HEAD"
        elif request.path == "/healthz":
            response = _json({"status": "alive"}, 200)
        elif request.path == "/readyz":
            found = health.readiness()
            response = _json(found.as_json(), 200 if found.ready else 503)
        else:
            response = scrape(request)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        if request.path in PROBES:
            # A desk that is not ready says so to every probe, every few seconds: the answer
            # is the report, not a log line (Django would log each 503 as an error).
            response._has_been_logged = True  # type: ignore[attr-defined]
        return response


def scrape(request: HttpRequest) -> HttpResponse:
    allowed = metrics.may_scrape(request)
    if not allowed:
        # In the caller's language: the locale middleware has not run.
        with translation.override(translation.get_language_from_request(request)):
            return _refusal(allowed)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(metrics.DeskCollector()), content_type=content_type)


def _refusal(allowed: bool | None) -> HttpResponse:
    if allowed is False:
        response = _json({"code": "unauthenticated", "message": _(
            "Send the metrics token as 'Authorization: Bearer <token>'.")}, 401)
        response["WWW-Authenticate"] = 'Bearer realm="opsdesk metrics"'
        return response
    return _json({"code": "forbidden", "message": _(
        "Metrics are served only with the metrics token or to an allowed network "
        "(OPSDESK_METRICS_TOKEN, OPSDESK_METRICS_ALLOW).")}, 403)


def _json(body: dict[str, object], status: int) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                        content_type="application/json")
