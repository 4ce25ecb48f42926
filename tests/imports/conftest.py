"""Running ``opsdesk import`` as its command, in English, with what it printed and how it
ended."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation


@dataclass
class Run:
    out: str
    err: str
    code: int  # the exit status the command would end the process with

    @property
    def report(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def run_import(tmp_path: Path) -> Callable[..., Run]:
    def run(export: bytes, *options: str, name: str = "export.csv") -> Run:
        path = tmp_path / name
        path.write_bytes(export)
        out, err = io.StringIO(), io.StringIO()
        with translation.override("en"):
            try:
                call_command("import", str(path), *options, stdout=out, stderr=err)
                code = 0
            except CommandError as error:
                err.write(str(error))
                code = error.returncode
        return Run(out.getvalue(), err.getvalue(), code)

    return run
