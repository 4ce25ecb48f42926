"""How an export's values become opsdesk's: each source's defaults, overridden by a TOML
mapping file (the README's *Importing history* shows one).

```toml
[columns]            # which column holds what, where the export names it differently
priority = "优先级"
cause = "Custom field (Root Cause)"
[status]             # the export's status → open | closed | archived
"In QA" = "open"
[priority]           # the export's priority → urgent | high | medium | low
"P0" = "urgent"
[people]             # a name in the export → an opsdesk username or email
"Zhang Wei" = "zhangwei"
[modules]            # a component or module in the export → an opsdesk module code or name
"Payments" = "payment"
[dates]
formats = ["%d.%m.%Y %H:%M"]   # tried before the usual ones
time_zone = "Asia/Shanghai"    # of dates written without an offset
[comments]
public = false       # true: the submitter sees the imported comments too
```

Every value a file names is checked before anything is read from the export: an unknown
section, target, person or module stops the import and says which.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.errors import DomainError
from opsdesk.imports import selectors
from opsdesk.imports.sources import TARGETS, Column, Source
from opsdesk.tickets.choices import Priority


class MappingError(DomainError):
    """The mapping file cannot be used; the message says where and why."""

    code = "mapping_invalid"
    status = 422


def normal(value: str) -> str:
    """A value as the mappings compare it: without surrounding space, in any case."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class Mapping:
    columns: MappingType[Column, tuple[str, ...]]
    statuses: MappingType[str, str]
    status_categories: MappingType[str, str]
    priorities: MappingType[str, Priority]
    people: MappingType[str, User]
    modules: MappingType[str, Module]
    date_formats: tuple[str, ...]
    zone: ZoneInfo
    public_comments: bool

    def names(self, column: Column) -> tuple[str, ...]:
        return self.columns.get(column, ())


SECTIONS = ("columns", "status", "priority", "people", "modules", "dates", "comments")


def load(*, source: Source, path: Path | None) -> Mapping:
    """The source's defaults with what the file at ``path`` (if any) changes."""
    given = _read(path) if path is not None else {}
    unknown = sorted(set(given) - set(SECTIONS))
    if unknown:
        raise MappingError(_("Unknown sections: %(sections)s. A mapping has: %(known)s.")
                           % {"sections": ", ".join(unknown), "known": ", ".join(SECTIONS)})
    dates = _table(given, "dates")
    comments = _table(given, "comments")
    return Mapping(
        columns={**source.columns, **_columns(_table(given, "columns"))},
        statuses={**source.statuses, **_targets(_table(given, "status"))},
        status_categories=source.status_categories,
        priorities={**{k: Priority.from_code(v) for k, v in source.priorities.items()},
                    **_priorities(_table(given, "priority"))},
        people=_people(_table(given, "people")),
        modules=_modules(_table(given, "modules")),
        date_formats=_formats(dates.get("formats", [])),
        zone=_zone(dates.get("time_zone", settings.TIME_ZONE)),
        public_comments=_flag(comments.get("public", False), "comments.public"),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise MappingError(_("The mapping file cannot be read: %s") % error.strerror) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(_("The mapping file is not valid TOML: %s") % error) from error


def _table(given: dict[str, Any], name: str) -> dict[str, Any]:
    table = given.get(name, {})
    if not isinstance(table, dict):
        raise MappingError(_("[%s] must be a table of names and values.") % name)
    return table


def _strings(table: dict[str, Any], section: str) -> dict[str, str]:
    wrong = [key for key, value in table.items() if not isinstance(value, str) or not value]
    if wrong:
        raise MappingError(_("[%(section)s] %(keys)s: each value must be text.")
                           % {"section": section, "keys": ", ".join(wrong)})
    return {normal(key): value.strip() for key, value in table.items()}


def _columns(table: dict[str, Any]) -> dict[Column, tuple[str, ...]]:
    unknown = sorted(set(table) - set(Column))
    if unknown:
        raise MappingError(_("[columns] %(names)s: unknown; the columns are: %(known)s.")
                           % {"names": ", ".join(unknown), "known": ", ".join(Column)})
    columns = {}
    for name, value in table.items():
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and n.strip() for n in names):
            raise MappingError(_("[columns] %s: give a column's name, or a list of names.")
                               % name)
        columns[Column(name)] = tuple(names)
    return columns


def _targets(table: dict[str, Any]) -> dict[str, str]:
    statuses = _strings(table, "status")
    wrong = sorted(key for key, value in statuses.items() if value not in TARGETS)
    if wrong:
        raise MappingError(_("[status] %(keys)s: each must be one of %(targets)s.")
                           % {"keys": ", ".join(wrong), "targets": ", ".join(TARGETS)})
    return statuses


def _priorities(table: dict[str, Any]) -> dict[str, Priority]:
    codes = [p.code for p in Priority]
    priorities = _strings(table, "priority")
    wrong = sorted(key for key, value in priorities.items() if value not in codes)
    if wrong:
        raise MappingError(_("[priority] %(keys)s: each must be one of %(codes)s.")
                           % {"keys": ", ".join(wrong), "codes": ", ".join(codes)})
    return {key: Priority.from_code(value) for key, value in priorities.items()}


def _people(table: dict[str, Any]) -> dict[str, User]:
    wanted = _strings(table, "people")
    found = selectors.users_by_login(wanted.values())
    unknown = sorted(f"{key} = {login}" for key, login in wanted.items()
                     if login.lower() not in found)
    if unknown:
        raise MappingError(_("[people] no user has the username or email: %s.")
                           % "; ".join(unknown))
    return {key: found[login.lower()] for key, login in wanted.items()}


def _modules(table: dict[str, Any]) -> dict[str, Module]:
    wanted = _strings(table, "modules")
    found = selectors.modules_by_name()
    unknown = sorted(f"{key} = {ref}" for key, ref in wanted.items() if normal(ref) not in found)
    if unknown:
        raise MappingError(_("[modules] no module has the code or name: %s.")
                           % "; ".join(unknown))
    return {key: found[normal(ref)] for key, ref in wanted.items()}


def _formats(formats: Any) -> tuple[str, ...]:
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f
                                                for f in formats):
        raise MappingError(_("[dates] formats: a list of strptime formats, such as %s.")
                           % '"%d.%m.%Y %H:%M"')
    return tuple(formats)


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise MappingError(_("[dates] time_zone: %s is not a time zone, such as "
                             "Asia/Shanghai.") % name) from error


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise MappingError(_("%s must be true or false.") % name)
    return value
