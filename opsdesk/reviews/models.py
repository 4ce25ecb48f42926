"""A post-incident review of a ticket and its action items: what happened (a timeline summary
generated from the ticket), the root cause, what went well and what badly, and the work that
follows, each item with an owner and a due date the worker follows up."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.tickets.models import Ticket


class Review(models.Model):
    """One per ticket. A draft until completed; complete, its text is final (reopening the
    ticket makes it a draft again: the incident goes on)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="review")
    timeline_summary = models.TextField(_("timeline summary"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    went_badly = models.TextField(_("what went badly"), blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    # Optimistic concurrency, as the ticket's: every edit compares and increments it.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")

    def __str__(self) -> str:
        return str(self.ticket)

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class ActionItem(models.Model):
    """Work a review decided on, owned by one person and due at a moment: the owner is told,
    reminded a day before it is due and told again when it is overdue (the worker)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(User, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="review_action_items")
    due_at = models.DateTimeField(_("due"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    done_note = models.TextField(_("what was done"), blank=True)
    # What the worker has told the owner (once each), so that a rerun sends nothing twice.
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # An owner's open items, soonest due first; the worker's open items by due time.
            models.Index(fields=["owner", "done_at", "due_at"], name="action_owner_open"),
            models.Index(fields=["done_at", "due_at"], name="action_open_due"),
        ]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.title


class ArchiveHeld(models.Model):
    """A closed ticket the archive policy would have archived but for its missing review: its
    people were told once, at ``told_at``."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="+")
    told_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.ticket_id)
