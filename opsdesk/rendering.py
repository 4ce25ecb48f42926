"""How the API writes JSON: Chinese as characters, datetimes in the caller's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

# Datetimes, dates and times go to ``_Encoder.default`` (orjson would write them in UTC and
# to the microsecond); keys that are numbers become strings, as ``json`` writes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class _Encoder(NinjaJSONEncoder):
    """What orjson does not write itself, written as django-ninja's encoder writes it, except
    aware datetimes: in ``zone`` (the caller's), with its offset. A zone's historic offset in
    seconds (Shanghai before 1901: +08:05:43) is not RFC 3339, and clients cannot parse it:
    such a moment is written in UTC."""

    def __init__(self, zone: Any) -> None:
        super().__init__()
        self.zone = zone

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            local = o.astimezone(self.zone)
            offset = local.utcoffset()
            if offset is not None and offset.seconds % 60:
                return o.astimezone(UTC).isoformat()
            return local.isoformat()
        return super().default(o)


class UnicodeJSONRenderer(BaseRenderer):
    """Compact UTF-8 JSON with Chinese as characters, not \\u escapes (half the bytes,
    readable in logs), by orjson: a 3 KB ticket in a tenth of the standard library's time."""

    media_type = "application/json"

    def render(self, request: HttpRequest | None, data: Any, *, response_status: int) -> bytes:
        return dumps(data)


def dumps(data: Any) -> bytes:
    """``data`` as the API writes it, in the active time zone."""
    return orjson.dumps(data, default=_Encoder(timezone.get_current_timezone()).default,
                        option=_OPTIONS)


RENDERER = UnicodeJSONRenderer()


def json_response(request: HttpRequest, data: Any, status: int = 200) -> HttpResponse:
    """An answer rendered as every API answer is, for a handler that built it itself."""
    content = RENDERER.render(request, data, response_status=status)
    return HttpResponse(content, status=status,
                        content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}")
