"""The deployment files under deploy/, read as their tools read them: the compose file as YAML,
the env file as systemd's EnvironmentFile and Compose's .env do, the Dockerfile's
instructions, and the systemd units' keys (which may repeat)."""

from __future__ import annotations

import shlex
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def env_example() -> dict[str, str]:
    """KEY=VALUE lines; comments and blank lines skipped; a commented-out setting is unset."""
    found = {}
    for line in (DEPLOY / "opsdesk.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value
    return found


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    @property
    def exec_form(self) -> list[str]:
        """The arguments of CMD ["a", "b"] and its kin."""
        words: list[str] = yaml.safe_load(self.arguments)
        return words


def dockerfile() -> list[Instruction]:
    """The instructions, continuation lines joined, comments and the parser directive left out."""
    instructions, pending = [], ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Section → key → every value given to it, in order."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = defaultdict(list)
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), defaultdict(list))
            continue
        key, _, value = line.partition("=")
        current[key.strip()].append(value.strip())
    return sections


def exec_start(name: str) -> list[list[str]]:
    return [shlex.split(command) for command in unit(name)["Service"]["ExecStart"]]
