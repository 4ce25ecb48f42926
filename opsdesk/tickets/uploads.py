"""Uploads over the attachment limit are refused before their bytes are read: a 200 MB upload
must not grow a server process by 200 MB, nor fill its temporary folder.

``UploadLimit`` is the first of Django's upload handlers (settings.FILE_UPLOAD_HANDLERS). A
request whose Content-Length is over the limit (with room for the form's other fields) is
refused at its first file, which is never read; a file is refused at the chunk that passes
the limit (a body longer than it said, or a file just over the limit). Parsing stops there:
the fields before the file, the CSRF token among them, are kept, and the refusal waits on the
request for the page to show (``raise_refusal``). The API refuses at once instead, before
reading anything (``refused_at_once``), and answers it as an API error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponseBase

from opsdesk.tickets.errors import AttachmentTooLarge
from opsdesk.tickets.storage import attachment_too_large

# A multipart body holds more than its file: the other fields and each part's headers.
FORM_ALLOWANCE = 1 << 20


def too_long_a_body(content_length: int) -> bool:
    return content_length > settings.OPSDESK_ATTACHMENT_MAX_BYTES + FORM_ALLOWANCE


class UploadLimit(FileUploadHandler):
    """Refuses an upload over the limit as soon as that is known (see above)."""

    def __init__(self, request: HttpRequest | None = None, *, at_once: bool = False) -> None:
        super().__init__(request)
        self.at_once = at_once
        self.body_too_long = False

    def handle_raw_input(self, input_data: Any, META: dict[str, Any], content_length: int,
                         boundary: str, encoding: str | None = None) -> None:
        self.body_too_long = too_long_a_body(content_length)
        if self.body_too_long and self.at_once:
            raise attachment_too_large(name=None, size=None)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.body_too_long:
            self._refuse(attachment_too_large(name=self.file_name, size=None))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.OPSDESK_ATTACHMENT_MAX_BYTES:
            self._refuse(attachment_too_large(name=self.file_name, size=None))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler keeps the file

    def _refuse(self, refusal: AttachmentTooLarge) -> None:
        self.request.upload_refusal = refusal  # type: ignore[union-attr]
        # Stop reading without draining the rest of the body (the server closes the connection
        # after the answer); Django then closes, and so removes, the part of the file it kept.
        raise StopUpload(connection_reset=True)

    def upload_complete(self) -> None:
        if self.at_once and self.request is not None:
            raise_refusal(self.request)


def raise_refusal(request: HttpRequest) -> None:
    """Raise the refusal of this request's upload, if ``UploadLimit`` refused it."""
    refusal: AttachmentTooLarge | None = getattr(request, "upload_refusal", None)
    if refusal is not None:
        raise refusal


Run = Callable[..., HttpResponseBase]


def refused_at_once(run: Run) -> Run:
    """For an API operation (``ninja.decorators.decorate_view``): an upload over the limit is
    refused before its body is read, with the API's error answer (413)."""

    @functools.wraps(run)
    def run_limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.upload_handlers = [UploadLimit(request, at_once=True), *request.upload_handlers]
        return run(request, *args, **kwargs)

    return run_limited
