"""Run records and metric histories, checked: the *validate* stage for ``runs/``."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sitegen.errors import Problem
from sitegen.store.checker import Checker, memoized
from sitegen.store.events import LogState
from sitegen.store.format import check_run_id, sha256_hex
from sitegen.store.memo import Memo, MemoKey
from sitegen.store.reader import Raw
from sitegen.store.rows import PackedRows, valid_row

RUN_STATUSES = frozenset({"running", "finished", "failed", "crashed"})
REF_RE = re.compile(r"^([a-z0-9][a-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*):v(0|[1-9][0-9]*)\Z")


@dataclass(frozen=True)
class RunRecord:
    id: str
    name: str
    job_type: str
    status: str
    started_at: str
    finished_at: str | None
    config: Mapping[str, Any]
    summary: Mapping[str, Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    git: Mapping[str, Any]
    host: str
    user: str
    notes: str
    tags: tuple[str, ...]
    source: Mapping[str, Any] | None
    display: str


def check_run(
    raw: Raw, state: LogState, problems: list[Problem], memo: Memo | None = None
) -> RunRecord | None:
    """A well-formed run record, with the status the event log gives it."""
    parsed = memoized_run(raw, memo)
    problems.extend(parsed.problems)
    record = parsed.record
    if record is None:
        return None
    finished = state.runs_finished.get(record.id)
    status = record.status
    if finished is None and status == "running" and record.id in state.runs_started:
        status = "crashed"
    status = finished or status
    return record if status == record.status else dataclasses.replace(record, status=status)


class RunParse(NamedTuple):
    """A run record file parsed on its own, as the memo keeps it."""

    record: RunRecord | None
    problems: tuple[Problem, ...]
    sha256: str  # of the file, which the log seals when the run finishes


def memoized_run(raw: Raw, memo: MutableMapping[MemoKey, Any] | None) -> RunParse:
    """:func:`parse_run` with its problems and the file's sha256, memoized (see
    :func:`~sitegen.store.checker.memoized`)."""
    return memoized("run", raw, memo, _run_entry)


def _run_entry(raw: Raw) -> RunParse:
    problems: list[Problem] = []
    record = parse_run(raw, problems)
    return RunParse(record, tuple(problems), sha256_hex(raw.text.encode("utf-8")))


def parse_run(raw: Raw, problems: list[Problem]) -> RunRecord | None:
    """Everything about one run record that needs no other file (its status as written)."""
    c = Checker(raw, problems)
    data = c.json_object("run record")
    if data is None:
        return None
    run_id = raw.key.split("/")[1]
    if data.get("id") != run_id or check_run_id(run_id):
        c.fail(f"'id' is {data.get('id')!r} but the run lives at runs/{run_id}", "id")
        return None
    status = c.get(data, "status", str, "running", "a string")
    if status not in RUN_STATUSES:
        c.fail(f"'status' {status!r} is not one of {sorted(RUN_STATUSES)}", "status")
    summary = c.get(data, "summary", dict, {}, "an object")
    for key, value in summary.items():
        if isinstance(value, float) and not math.isfinite(value):
            c.fail(f"'summary.{key}' must be a finite number", "summary", key)
    return RunRecord(
        run_id,
        str(c.get(data, "name", str, run_id, "a string")),
        str(c.get(data, "job_type", str, "", "a string")),
        status,
        str(c.get(data, "started_at", str, "", "a timestamp string")),
        c.get(data, "finished_at", (str, type(None)), None, "a timestamp string or null"),
        c.get(data, "config", dict, {}, "an object"),
        summary,
        _refs(c, data, "inputs"),
        _refs(c, data, "outputs"),
        c.get(data, "git", dict, {}, "an object"),
        str(c.get(data, "host", str, "", "a string")),
        str(c.get(data, "user", str, "", "a string")),
        str(c.get(data, "notes", str, "", "a string")),
        tuple(str(t) for t in c.get(data, "tags", list, [], "a list of strings")),
        c.get(data, "source", (dict, type(None)), None, "an object"),
        raw.display,
    )


def _refs(c: Checker, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    refs = c.get(data, key, list, [], "a list of 'type/name:vN' references")
    good = []
    for ref in refs:
        if isinstance(ref, str) and REF_RE.match(ref):
            good.append(ref)
        else:
            c.fail(f"'{key}' entry {ref!r} is not a 'type/name:vN' reference", key)
    return tuple(dict.fromkeys(good))


def checked_history(
    raw: Raw, problems: list[Problem], memo: MutableMapping[MemoKey, Any] | None
) -> Sequence[Mapping[str, Any]]:
    """:func:`check_history`, skipped for a history file already found to be all good rows."""
    memo_key = ("history-ok", raw.key, raw.identity or ())
    if memo is not None and raw.identity is not None and memo.get(memo_key):
        return raw.data if isinstance(raw.data, PackedRows) else tuple(raw.data or ())
    rows = check_history(raw, problems)
    if len(rows) == len(raw.data or ()):
        if memo is not None and raw.identity is not None:
            memo[memo_key] = True
        if isinstance(raw.data, PackedRows):  # all good: keep the curves made while parsing
            return raw.data
    return rows


def check_history(raw: Raw, problems: list[Problem]) -> tuple[Mapping[str, Any], ...]:
    rows = raw.data if isinstance(raw.data, (list, PackedRows)) else []
    good: list[Mapping[str, Any]] = []
    for index, row in enumerate(rows):
        if valid_row(row):
            good.append(row)
        else:
            problems.append(
                Problem(
                    raw.display, index + 1, "history row must be an object with an integer '_step'"
                )
            )
    return tuple(good)
