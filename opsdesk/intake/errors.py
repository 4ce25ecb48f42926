"""Why an inbound payload was refused (answered 4xx; a payload that arrived is kept for
inspection and replay)."""

from opsdesk.errors import DomainError


class PayloadRejected(DomainError):
    code = "payload_rejected"
    status = 422


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


class BadSecret(DomainError):
    code = "bad_secret"
    status = 401


class IntegrationDisabled(DomainError):
    code = "integration_disabled"
    status = 403


class NotReplayable(DomainError):
    code = "not_replayable"
    status = 409


class MailQuarantined(DomainError):
    """A mail that cannot become a ticket or a comment (an unknown sender, a reply to a ticket
    its sender may not see); kept for an administrator to inspect and replay."""

    code = "mail_quarantined"
    status = 422
