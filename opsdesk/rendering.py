"""How the API writes JSON: Chinese as characters, datetimes in the caller's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class LocalTimeEncoder(NinjaJSONEncoder):
    """Datetimes in the caller's time zone (with its offset), as the rest of the UI shows them.
    A zone's historic offset in seconds (Shanghai before 1901: +08:05:43) is not RFC 3339, and
    clients cannot parse it: such a moment is written in UTC."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            local = timezone.localtime(o)
            offset = local.utcoffset()
            if offset is not None and offset.seconds % 60:
                return o.astimezone(UTC).isoformat()
            return local.isoformat()
        return super().default(o)


class UnicodeJSONRenderer(JSONRenderer):
    """JSON with Chinese as characters, not \\u escapes: half the bytes, readable in logs."""

    encoder_class = LocalTimeEncoder
    json_dumps_params = {"ensure_ascii": False}


RENDERER = UnicodeJSONRenderer()


def json_response(request: HttpRequest, data: Any, status: int = 200) -> HttpResponse:
    """An answer rendered as every API answer is, for a handler that built it itself."""
    content = RENDERER.render(request, data, response_status=status)
    return HttpResponse(content, status=status,
                        content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}")
