"""Every asset is served by opsdesk itself (no CDN), pinned with its licence, and the pages'
own JavaScript and CSS stay small."""

import gzip
import re
from pathlib import Path

import opsdesk

PACKAGE = Path(opsdesk.__file__).parent
STATIC = PACKAGE / "web" / "static"
BUDGET = 300 * 1024  # bytes, gzip-compressed, per page


def _gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def test_workspace_pages_load_under_the_budget():
    assets = [STATIC / "web" / "opsdesk.css", STATIC / "web" / "opsdesk.js",
              STATIC / "vendor" / "htmx" / "htmx.min.js"]
    assert sum(_gz(a) for a in assets) < BUDGET


def test_templates_load_nothing_from_elsewhere():
    for template in PACKAGE.rglob("templates/**/*.html"):
        source = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', source), template
        assert "echarts" not in source or "reports" in str(template), template


def test_vendored_libraries_carry_their_licences_and_versions():
    vendor = STATIC / "vendor"
    assert (vendor / "htmx" / "LICENSE").exists()
    assert "htmx" in (vendor / "VERSIONS").read_text()
