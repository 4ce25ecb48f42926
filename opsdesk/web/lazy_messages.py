"""Django's messages middleware, with the storage opened only by a request that uses it.

Opening it builds a cookie signer and a session reader for every request; an API call or a
health check never shows nor adds a message (a tenth of a no-op request's time). A request
that adds or shows one opens it at that moment, and only then are the messages stored back.
"""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty


class LazyMessages(MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(  # type: ignore[attr-defined]
            lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage.__dict__["_wrapped"] is empty:
            return response  # never opened: nothing was added, nothing shown
        return super().process_response(request, response)
