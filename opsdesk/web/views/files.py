"""A ticket's files as the ticket page shows them: an image inline, anything else downloaded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from opsdesk.tickets import selectors
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.storage import IMAGE_HEAD_BYTES, image_type
from opsdesk.web.views.common import person
from opsdesk.web.views.ticket import visible_ticket


@login_required
@require_GET
def attachment_file(request: HttpRequest, key: str, attachment_id: int) -> FileResponse:
    """One file of a ticket the reader may read. A PNG, JPEG, GIF or WebP image, by its first
    bytes rather than its name or declared type, is served as that image for the page to
    show; anything else is a download, as the API serves it. Either way the browser may not
    guess another type (nosniff) and nothing in it may run (a sandbox), should someone open
    it on its own."""
    user = person(request)
    ticket = visible_ticket(user, key)
    try:
        attachment = selectors.get_attachment(user=user, ticket=ticket,
                                              attachment_id=attachment_id)
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except (NotFound, OSError) as exc:
        raise Http404 from exc
    kind = image_type(handle.read(IMAGE_HEAD_BYTES))
    handle.seek(0)
    response = FileResponse(handle, as_attachment=kind is None, filename=attachment.name,
                            content_type=kind or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    # A file never changes under its id; only people who may read the ticket get it.
    response["Cache-Control"] = "private, max-age=3600"
    return response
