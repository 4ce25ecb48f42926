"""What an import did (or a dry run would do), in the reader's language: tickets by state and
priority, comments, rows skipped as imported before, people and modules found or not, and
every refused row with its line and reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opsdesk.imports.plan import Draft, Plan, Refusal, tally
from opsdesk.tickets.choices import Priority, Status

# Names listed per kind before "and N more".
SHOWN = 20


def lines(*, plan: Plan, created: Sequence[Draft], refusals: Sequence[Refusal],
          skipped: int, dry_run: bool) -> list[str]:
    """The report: ``created`` are the drafts written (a dry run: those that would be)."""
    out = [_("%(source)s export %(file)s (%(encoding)s): %(rows)s.") % {
        "source": plan.source.label, "file": plan.file_name, "encoding": plan.encoding.upper(),
        "rows": ngettext("%(count)s row", "%(count)s rows", plan.rows) % {
            "count": f"{plan.rows:,}"}}]
    comments = sum(len(draft.comments) for draft in created)
    tickets = ngettext("%(count)s ticket", "%(count)s tickets", len(created)) % {
        "count": f"{len(created):,}"}
    said = ngettext("%(count)s comment", "%(count)s comments", comments) % {
        "count": f"{comments:,}"}
    out.append((_("Would create %(tickets)s with %(comments)s.") if dry_run
                else _("Created %(tickets)s with %(comments)s.")) % {
        "tickets": tickets, "comments": said})
    if created:
        states = Counter(Status(d.ticket.status) for d in created)
        priorities = Counter(Priority(d.ticket.priority) for d in created)
        out.append("  " + _("by state: %s") % " · ".join(
            f"{state.label} {states[state]:,}" for state in Status if states[state]))
        out.append("  " + _("by priority: %s") % " · ".join(
            f"{p.label} {priorities[p]:,}" for p in Priority if priorities[p]))
    already = plan.already_imported + skipped
    if already:
        out.append(ngettext("%(count)s row was imported before and is skipped.",
                            "%(count)s rows were imported before and are skipped.", already)
                   % {"count": f"{already:,}"})
    if created:
        out += _people_and_modules(tally(list(created)))
    if refusals:
        out.append(ngettext("Refused %(count)s row:", "Refused %(count)s rows:",
                            len(refusals)) % {"count": f"{len(refusals):,}"})
        out += ["  " + _("line %(line)d, %(key)s: %(reason)s") % {
            "line": r.line, "key": r.key or "—", "reason": r.reason}
            for r in sorted(refusals, key=lambda r: r.line)]
    return out


def _people_and_modules(counts: dict[str, Counter[str]]) -> list[str]:
    out = [_("People: %(matched)s matched to accounts.") % {
        "matched": ngettext("%(count)s name", "%(count)s names", len(counts["matched"]))
        % {"count": f"{len(counts['matched']):,}"}}]
    if counts["unmatched"]:
        out.append("  " + _("kept as names (no account has them): %s")
                   % _listed(counts["unmatched"]))
    if counts["ambiguous"]:
        out.append("  " + _("kept as names (several accounts have them; a mapping's [people] "
                            "can say whom they mean): %s") % _listed(counts["ambiguous"]))
    if counts["modules"]:
        out.append(_("Modules no module here matched (the tickets have none; a mapping's "
                     "[modules] can say which they are): %s") % _listed(counts["modules"]))
    return out


def _listed(counts: Counter[str]) -> str:
    shown = ", ".join(f"{name} ({count:,})" for name, count in counts.most_common(SHOWN))
    rest = len(counts) - SHOWN
    if rest > 0:
        shown += " " + ngettext("and %(count)s more", "and %(count)s more", rest) % {
            "count": f"{rest:,}"}
    return shown
