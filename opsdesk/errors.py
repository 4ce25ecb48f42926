"""The one base of opsdesk's domain errors: a service refuses what a person asked for by raising
a subclass, and the API (``opsdesk.api``) and the pages answer it in the reader's language.

Each carries a stable ``code`` for machines, the HTTP ``status`` it is answered with, and a
message in the active language. Each app keeps its own refusals in its ``errors.py``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
