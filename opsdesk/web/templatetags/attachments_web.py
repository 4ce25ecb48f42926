"""Files on the pages: sizes in KB/MB in the reader's language, and whether a file is an image
the ticket page may show (told by its content, opsdesk.tickets.storage)."""

from __future__ import annotations

from django import template

from opsdesk.tickets import storage
from opsdesk.tickets.models import Attachment

register = template.Library()


@register.filter
def file_size(size: int | None) -> str:
    """``{{ attachment.size|file_size }}``: "1.5 MB", never bytes."""
    return storage.file_size(size or 0)


@register.filter
def image_type(attachment: Attachment) -> str:
    """``{% if attachment|image_type %}``: its image type (PNG, JPEG, GIF, WebP), or ""."""
    return storage.image_type_of(attachment) or ""
