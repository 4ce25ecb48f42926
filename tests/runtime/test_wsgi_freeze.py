"""The production WSGI module keeps what serving loaded for good out of the cycle
collector's walks: at start-up, and again once the first requests have loaded the rest."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc, io, wsgiref.util
from opsdesk.runtime import wsgi

def serve():
    environ = {"PATH_INFO": "/api/v1/ping", "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    answer = wsgi.application(environ, lambda status, headers: None)
    b"".join(answer)
    answer.close()  # as the server does once the answer is sent: request_finished

# Frozen objects can still be freed (a module's value replaced), never added but by a freeze.
at_start = gc.get_freeze_count()
assert at_start > 50_000, at_start
for _ in range(wsgi.WARM_REQUESTS - 1):
    serve()
cold = gc.get_freeze_count()
assert cold <= at_start, (cold, at_start)
serve()
warm = gc.get_freeze_count()
assert warm > cold, (warm, cold)
for _ in range(wsgi.WARM_REQUESTS):
    serve()
assert gc.get_freeze_count() <= warm  # once only
"""


def test_serving_freezes_at_start_and_once_warm(tmp_path):
    env = {**os.environ, "OPSDESK_DATA_DIR": str(tmp_path), "OPSDESK_DATABASE_URL": "",
           "DJANGO_SETTINGS_MODULE": "opsdesk.settings"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
