"""Errors of the inspections app (the API answers them like every other domain error)."""

from opsdesk.errors import DomainError


class RunFinished(DomainError):
    """The run is done: its results are on record and no longer change."""

    code = "run_finished"
    status = 409


class NoTicketForEvidence(DomainError):
    """Evidence files are kept on the ticket a failed item opens."""

    code = "no_ticket"
    status = 409
