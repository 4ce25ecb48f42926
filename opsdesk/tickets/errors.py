"""The tickets' domain errors (``opsdesk.errors.DomainError``): services raise them; the API
and views translate them for people."""

from __future__ import annotations

# Also named here, where the pages (opsdesk/web) import it from.
from opsdesk.errors import DomainError as DomainError


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionRefused(DomainError):
    code = "forbidden"
    status = 403


class InvalidField(DomainError):
    code = "invalid_field"
    status = 422


class TransitionRefused(DomainError):
    """The workflow table does not allow this action now (wrong state, missing fields, gate)."""

    code = "transition_refused"
    status = 409


class MissingFields(TransitionRefused):
    code = "missing_fields"
    status = 422


class ApprovalRequired(TransitionRefused):
    code = "approval_required"


class StaleVersion(DomainError):
    """Someone else changed the ticket since the caller read it."""

    code = "stale_version"
    status = 409


class ReadOnlyTicket(DomainError):
    code = "read_only"
    status = 409


class AttachmentTooLarge(InvalidField):
    code = "attachment_too_large"
    status = 413


class StorageFull(DomainError):
    """The disk (or quota) that keeps files is full: nothing was kept; trying again later, once
    an administrator has made room, can succeed."""

    code = "storage_full"
    status = 507
