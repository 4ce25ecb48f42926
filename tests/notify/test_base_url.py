"""Links in messages point where the desk is served: OPSDESK_BASE_URL when it is said,
otherwise the address `opsdesk run` / `opsdesk serve` listen on (OPSDESK_HOST, OPSDESK_PORT)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

READ = ("import django; django.setup(); from django.conf import settings; "
        "print(settings.OPSDESK_BASE_URL)")


def base_url(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OPSDESK_BASE_URL", "OPSDESK_HOST", "OPSDESK_PORT")}
    clean.update(DJANGO_SETTINGS_MODULE="opsdesk.settings", OPSDESK_DATA_DIR=str(tmp_path), **env)
    done = subprocess.run([sys.executable, "-c", READ], env=clean, capture_output=True,
                          text=True, check=True, cwd=Path(__file__).parents[2])
    return done.stdout.strip()


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "http://127.0.0.1:8000"),
    ({"OPSDESK_PORT": "9000"}, "http://127.0.0.1:9000"),
    ({"OPSDESK_HOST": "10.0.3.21", "OPSDESK_PORT": "8080"}, "http://10.0.3.21:8080"),
    ({"OPSDESK_HOST": "::1"}, "http://[::1]:8000"),
    ({"OPSDESK_HOST": "0.0.0.0", "OPSDESK_PORT": "9000"}, f"http://{socket.gethostname()}:9000"),
    ({"OPSDESK_PORT": "9000", "OPSDESK_BASE_URL": "https://desk.example.cn"},
     "https://desk.example.cn"),
    ({"OPSDESK_PORT": "9000", "OPSDESK_BASE_URL": ""}, "http://127.0.0.1:9000"),
])
def test_links_follow_the_address_served_on(tmp_path: Path, env: dict[str, str],
                                            expected: str) -> None:
    assert base_url(tmp_path, **env) == expected
