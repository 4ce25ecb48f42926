"""The department's modules as the administration page keeps them: each with its owner (B)
and the support engineers (C) for each problem type, checked in the reader's words (only
holders of the role may be given the work) and put on record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opsdesk.accounts import audit
from opsdesk.accounts.models import Module, ModuleSupport, ProblemType, User, role_problem
from opsdesk.accounts.roles import Role

MODULE_FIELDS = ("code", "name", "description", "owner")


def support_field(problem_type: str) -> str:
    """The name under which problems with one problem type's support engineers are raised."""
    return f"support_{problem_type}"


def _support_problems(support: Mapping[str, Iterable[User]]) -> dict[str, list[ValidationError]]:
    problems: dict[str, list[ValidationError]] = {}
    for problem_type, engineers in support.items():
        for engineer in engineers:
            if (problem := role_problem(engineer, [Role.SUPPORT])) is not None:
                problems.setdefault(support_field(problem_type), []).append(problem)
    return problems


@transaction.atomic
def save_module(*, by: User, module: Module | None, support: Mapping[str, Iterable[User]],
                **fields: object) -> Module:
    """Create a module (``module`` None) or change one, with its support engineers per problem
    type (``support``: problem type → engineers; a type left out keeps its engineers)."""
    new = module is None
    module = module or Module()
    engineers = {kind: list(people) for kind, people in support.items()
                 if kind in ProblemType.values}
    changed = [name for name in MODULE_FIELDS
               if name in fields and fields[name] != getattr(module, name, None)]
    for name in changed:
        setattr(module, name, fields[name])
    problems = _support_problems(engineers)
    try:
        module.full_clean()
    except ValidationError as exc:
        for name, errors in exc.error_dict.items():
            problems.setdefault(name, []).extend(errors)
    if problems:
        raise ValidationError(problems)  # type: ignore[arg-type]
    module.save()
    if _set_support(module, engineers):
        changed.append("support")
    if new:
        audit.added(by=by, obj=module)
    elif changed:
        audit.changed(by=by, obj=module, fields=[n for n in changed if n != "support"])
    return module


def _set_support(module: Module, support: Mapping[str, list[User]]) -> bool:
    """Make ``support`` the module's support engineers; whether anything changed."""
    changed = False
    for problem_type, engineers in support.items():
        wanted = {engineer.pk for engineer in engineers}
        links = ModuleSupport.objects.filter(module=module, problem_type=problem_type)
        held = set(links.values_list("engineer_id", flat=True))
        if held - wanted:
            links.filter(engineer_id__in=held - wanted).delete()
        ModuleSupport.objects.bulk_create([
            ModuleSupport(module=module, problem_type=problem_type, engineer_id=pk)
            for pk in sorted(wanted - held)])
        changed = changed or held != wanted
    return changed


@transaction.atomic
def delete_module(*, by: User, module: Module) -> None:
    """Remove a module no ticket is filed under and no routing rule or SLA policy names (a
    rule or policy for it alone would then take every module); refused, saying why."""
    # Read by their relations: accounts comes before the apps that refer to modules.
    uses = [*(str(rule) for rule in module.routingrule_set.all()),  # type: ignore[attr-defined]
            *(str(policy) for policy in module.slapolicy_set.all())]  # type: ignore[attr-defined]
    if uses:
        raise ValidationError(
            _("%(module)s is a condition of %(uses)s: change those first, or a rule or policy "
              "for it alone would take every module.")
            % {"module": module, "uses": _(", ").join(uses)}, code="in_use")
    audit.deleted(by=by, obj=module)
    try:
        with transaction.atomic():
            module.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise ValidationError(ngettext(
            "%(module)s has %(count)s ticket filed under it and stays, so that it keeps its "
            "module; rename it instead.",
            "%(module)s has %(count)s tickets filed under it and stays, so that they keep "
            "their module; rename it instead.", count) % {"module": module, "count": count},
            code="protected") from exc


def describe_support(module: Module) -> list[tuple[str, list[User]]]:
    """(problem type label, engineers) for each problem type, in the procedure's order."""
    links = [link for link in module.support.all()]
    return [(str(label), [link.engineer for link in links if link.problem_type == code])
            for code, label in ProblemType.choices]

