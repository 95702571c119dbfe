"""A deploy as a list of actions: each is recorded, and carried out unless it is a dry run.

Reads always happen (they decide create / update / unchanged); mutating calls happen only
through ``Plan.do``, which is the one place ``--dry-run`` is enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SIGNS = {"create": "+", "update": "~", "unchanged": "=", "skip": "-"}


class DeployError(Exception):
    """A deploy that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Action:
    verb: str  # create | update | unchanged | skip
    resource: str
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"  {SIGNS[self.verb]} {self.verb:<9} {self.resource}{detail}"


@dataclass
class Plan:
    dry_run: bool
    actions: list[Action] = field(default_factory=list)

    def do(self, verb: str, resource: str, detail: str, call: Callable[[], Any]) -> None:
        """Record a create/update and run ``call`` unless this is a dry run."""
        self.actions.append(Action(verb, resource, detail))
        if not self.dry_run:
            call()

    def unchanged(self, resource: str, detail: str = "") -> None:
        self.actions.append(Action("unchanged", resource, detail))

    def skip(self, resource: str, why: str) -> None:
        self.actions.append(Action("skip", resource, why))

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.verb in ("create", "update")]

    def text(self) -> str:
        return "\n".join(a.line() for a in self.actions)
