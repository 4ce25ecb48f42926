"""``python -m opsdesk.runtime.healthcheck [PATH]``: exit 0 when the opsdesk server of this
machine (``OPSDESK_HOST``, ``OPSDESK_PORT``) answers PATH (``/healthz`` by default) with 200,
else 1 with the reason on stderr. For a container's HEALTHCHECK: it loads no Django and needs
no curl in the image."""

from __future__ import annotations

import os
import sys
import urllib.request

TIMEOUT_SECONDS = 4.0
EVERY_ADDRESS = ("", "0.0.0.0", "::", "[::]")


def server_url(path: str) -> str:
    host = os.environ.get("OPSDESK_HOST", "").strip()
    if host in EVERY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{os.environ.get('OPSDESK_PORT', '').strip() or '8000'}{path}"


def main(argv: list[str]) -> int:
    url = server_url(argv[1] if len(argv) > 1 else "/healthz")
    # Straight to the server, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as answer:
            status = answer.status
    except OSError as failure:  # refused, timed out, or an HTTP error status
        print(f"{url}: {failure}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
