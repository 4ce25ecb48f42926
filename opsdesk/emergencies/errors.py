"""Errors of the emergencies app (answered like every other domain error)."""

from opsdesk.errors import DomainError


class AlreadyDeclared(DomainError):
    code = "already_declared"
    status = 409


class NotAnEmergency(DomainError):
    code = "not_an_emergency"
    status = 409
