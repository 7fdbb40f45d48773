"""Problems are part of the product: every user error names a file, a line and a hint.

Stages collect :class:`Problem` values instead of raising on the first one; the CLI
prints them all and fails once with :class:`SitegenError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the format allows."""

    path: str
    line: int | None
    message: str
    hint: str | None = None
    severity: Severity = "error"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.message)

    def __lt__(self, other: Problem) -> bool:
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        label = "" if self.severity == "error" else "warning: "
        text = f"{where}: {label}{self.message}"
        return text if self.hint is None else f"{text}\n  hint: {self.hint}"


class SitegenError(Exception):
    """A user-facing failure carrying every problem found; never shown as a traceback."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[SitegenError], tuple[tuple[Problem, ...]]]:
        return (type(self), (self.problems,))

    @classmethod
    def single(cls, path: str, message: str, hint: str | None = None) -> SitegenError:
        return cls([Problem(path, None, message, hint)])


class UsageError(SitegenError):
    """Wrong command-line usage (exit code 2) rather than bad input (exit code 1)."""


def errors_only(problems: Iterable[Problem], strict: bool = False) -> list[Problem]:
    """The problems that fail a run; with ``strict`` warnings count too."""
    return [p for p in problems if strict or p.severity == "error"]


class InvalidInput(SitegenError, ValueError):
    """Bad input given to the Python API (a name, a path, a reference)."""
