"""Production settings: one HTTPS switch turns on secure cookies and HSTS, trusted proxies are
the only ones believed about the scheme, and Django's deployment check has nothing to say.

Settings are read from the environment once, at import: each case is a fresh process."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOW = ("import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n, None) for n in ('SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT')}))")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")}
    clean.update(DJANGO_SETTINGS_MODULE="opsdesk.settings", OPSDESK_DATA_DIR=str(tmp_path),
                 OPSDESK_ALLOWED_HOSTS="opsdesk.example.com", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def _settings(tmp_path: Path, **env: str) -> dict[str, object]:
    done = _run(tmp_path, "-c", SHOW, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("proxies", ["", "10.0.0.0/24"])
def test_the_deployment_check_is_clean_in_production(tmp_path, proxies):
    done = _run(tmp_path, "-m", "django", "check", "--deploy", "--fail-level", "DEBUG",
                OPSDESK_HTTPS="true", OPSDESK_DEBUG="false",
                OPSDESK_SECRET_KEY=secrets.token_urlsafe(50), OPSDESK_TRUSTED_PROXIES=proxies)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_https_turns_on_secure_cookies_and_hsts(tmp_path):
    assert _settings(tmp_path, OPSDESK_HTTPS="true") == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_PROXY_SSL_HEADER": None, "SECURE_SSL_REDIRECT": False,
    }
    # The older name still works.
    assert _settings(tmp_path, OPSDESK_SECURE_COOKIES="true")["SECURE_HSTS_SECONDS"] == 31536000


def test_plain_http_by_default(tmp_path):
    shown = _settings(tmp_path)
    assert (shown["SESSION_COOKIE_SECURE"], shown["SECURE_HSTS_SECONDS"]) == (False, 0)


def test_the_scheme_is_believed_only_from_a_trusted_proxy(tmp_path):
    shown = _settings(tmp_path, OPSDESK_HTTPS="true", OPSDESK_TRUSTED_PROXIES="10.0.0.5, ::1")
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["SECURE_SSL_REDIRECT"] is True


def test_a_wrong_proxy_address_stops_the_start_with_its_name(tmp_path):
    done = _run(tmp_path, "-c", SHOW, OPSDESK_TRUSTED_PROXIES="10.0.0.5, proxy.local")
    assert done.returncode != 0
    assert "OPSDESK_TRUSTED_PROXIES" in done.stderr and "proxy.local" in done.stderr
