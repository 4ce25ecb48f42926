"""The runtime (the processes opsdesk runs as: web server, worker, backups, metrics) depends on
no app of the desk: each app registers what the runtime does for it (dispatching, periodic jobs,
metrics, what a backup counts) in its AppConfig.ready()."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

import opsdesk.runtime

RUNTIME = Path(opsdesk.runtime.__file__).parent


def imported_modules(source: str, package: str) -> set[str]:
    """Every module ``source`` (a module of ``package``) imports, at its top or inside a
    function, relative imports resolved."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.update([module, *(f"{module}.{alias.name}" for alias in node.names)])
    return found


def test_the_runtime_imports_no_app_of_the_desk() -> None:
    desk_apps = {config.name for config in apps.get_app_configs()
                 if config.name.startswith("opsdesk.")} - {"opsdesk.runtime"}
    assert {"opsdesk.tickets", "opsdesk.intake", "opsdesk.demo"} <= desk_apps
    offending = set()
    for path in RUNTIME.rglob("*.py"):
        package = ".".join(path.relative_to(RUNTIME.parent.parent).parent.parts)
        offending.update(
            f"{path.relative_to(RUNTIME)}: {module}"
            for module in imported_modules(path.read_text(), package)
            if any(module == app or module.startswith(f"{app}.") for app in desk_apps))
    assert not offending, sorted(offending)


def test_imports_inside_functions_and_relative_ones_are_seen() -> None:
    source = ("import opsdesk.sla.services\n"
              "from ..tickets import models\n"
              "def default_jobs():\n"
              "    from opsdesk.notify.tasks import retry_due_deliveries\n")
    assert {"opsdesk.sla.services", "opsdesk.tickets.models",
            "opsdesk.notify.tasks.retry_due_deliveries"} <= imported_modules(
        source, "opsdesk.runtime")
