"""Checking one record file: problems located as ``path:line`` by key, and the records
memo of what a file's parse gave (see :mod:`sitegen.store.memo`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TypeVar

from sitegen.errors import Problem
from sitegen.store.memo import MemoKey
from sitegen.store.reader import Raw


def line_of(text: str, *keys: str) -> int | None:
    """Best-effort line of a nested key in pretty-printed JSON or YAML (1-based)."""
    pos = 0
    for key in keys:
        found = text.find(f'"{key}":', pos)
        if found < 0:
            found = text.find(f"{key}:", pos)
        if found < 0:
            return None if pos == 0 else text.count("\n", 0, pos) + 1
        pos = found
    return text.count("\n", 0, pos) + 1


class Checker:
    """Collects problems for one raw record, locating each by key."""

    def __init__(self, raw: Raw, problems: list[Problem]) -> None:
        self.raw, self.problems = raw, problems

    def fail(
        self, message: str, *keys: str, hint: str | None = None, warning: bool = False
    ) -> None:
        line = line_of(self.raw.text, *keys) if keys else None
        self.problems.append(
            Problem(self.raw.display, line, message, hint, "warning" if warning else "error")
        )

    def json_object(self, what: str) -> dict[str, Any] | None:
        """The record's data when it is a JSON object; None when there is none (the reader
        has said why) or when it is something else (a problem: ``what`` must be an object)."""
        data = self.raw.data
        if data is None:
            return None
        if not isinstance(data, dict):
            self.fail(f"{what} must be a JSON object")
            return None
        return data

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        default: Any,
        what: str,
    ) -> Any:
        value = data.get(key, default)
        if value is default and key not in data:
            return default
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            self.fail(f"'{key}' must be {what}", key)
            return default
        return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


Entry = TypeVar("Entry", bound=tuple[Any, ...])


def memoized(
    kind: str, raw: Raw, memo: MutableMapping[MemoKey, Any] | None, parse: Callable[[Raw], Entry]
) -> Entry:
    """A record file parsed on its own, ``(record, problems, …)``: from the memo when the
    reader found it there, else parsed, and kept in the memo when it is a record read with
    its identity."""
    memo_key = (kind, raw.key, raw.identity or ())
    if raw.memoized and memo is not None:
        known: Entry = memo[memo_key]
        return known
    entry = parse(raw)
    if memo is not None and raw.identity is not None and entry[0] is not None:
        memo[memo_key] = entry
    return entry
