"""A response or resolution target as the admin entered it (15 minutes, 4 hours, 3 business
days), how it reads, and how a clock measures it.

Minutes and hours are business time: hours inside working hours, or plain hours around the
clock. Business days are working days of the policy's calendar, however long each one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opsdesk.sla.calendars import ONE_DAY

MICROSECONDS = {"minutes": 60_000_000, "hours": 3_600_000_000, "business_days": 86_400_000_000}


class TargetUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    BUSINESS_DAYS = "business_days", _("business days")


@dataclass(frozen=True)
class Target:
    amount: Decimal
    unit: str

    @property
    def in_working_days(self) -> bool:
        return self.unit == TargetUnit.BUSINESS_DAYS

    @property
    def measured(self) -> timedelta:
        """The target in its clock's measure: business time, or working days as days."""
        return timedelta(microseconds=int(self.amount * MICROSECONDS[self.unit]))

    def business_time(self, day_length: timedelta) -> timedelta:
        """Roughly how much business time the target allows, a working day counted at
        ``day_length``: what reports compare times with."""
        if self.in_working_days:
            return self.measured / ONE_DAY * day_length
        return self.measured

    def __str__(self) -> str:
        """"15 minutes", "1 business day", "2.5 hours", in the active language."""
        amount = self.amount.normalize()
        text = f"{amount:f}"
        # A plural form is chosen by a whole number; a fraction of a unit reads as plural.
        count = int(amount) if amount == amount.to_integral_value() else 2
        if self.unit == TargetUnit.MINUTES:
            return ngettext("%(n)s minute", "%(n)s minutes", count) % {"n": text}
        if self.unit == TargetUnit.HOURS:
            return ngettext("%(n)s hour", "%(n)s hours", count) % {"n": text}
        return ngettext("%(n)s business day", "%(n)s business days", count) % {"n": text}

    def as_data(self) -> dict[str, str]:
        """The target as a timeline event keeps it."""
        return {"amount": f"{self.amount.normalize():f}", "unit": str(self.unit)}

    @classmethod
    def from_data(cls, data: object) -> Target | None:
        """A target kept by ``as_data``; None for anything else."""
        if not isinstance(data, dict) or data.get("unit") not in TargetUnit.values:
            return None
        try:
            return cls(Decimal(str(data.get("amount"))), str(data["unit"]))
        except ArithmeticError:
            return None

    @classmethod
    def of_days(cls, days: Decimal) -> Target:
        return cls(days, TargetUnit.BUSINESS_DAYS)

    @classmethod
    def of_duration(cls, duration: timedelta) -> Target:
        """A target in business time, read in hours when it is a whole number of them."""
        minutes = Decimal(duration // timedelta(microseconds=1)) / MICROSECONDS["minutes"]
        if minutes % 60 == 0:
            return cls(minutes / 60, TargetUnit.HOURS)
        return cls(minutes, TargetUnit.MINUTES)
