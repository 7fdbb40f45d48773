"""Reading a store into raw records: the I/O end of the pipeline.

Nothing here interprets records beyond parsing them; :mod:`sitegen.store.records`
checks their shape. Parse errors become problems with the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from sitegen.errors import Problem
from sitegen.store.backend import Backend, unreadable
from sitegen.store.events import Event, list_event_seqs, read_log
from sitegen.store.format import (
    ARTIFACTS,
    EVENTS,
    RUNS,
    VERSION_RE,
    event_key,
    history_key,
    run_key,
    sha256_hex,
)
from sitegen.store.memo import Memo, MemoKey
from sitegen.store.nesting import DEEP, may_be_too_deep, refused, refused_number
from sitegen.store.rows import PackedRows
from sitegen.store.writer import check_root


class Raw(NamedTuple):
    """One parsed record file. ``data`` is None when it could not be parsed.

    With a memo, ``identity`` says which version of the file this is, and ``memoized``
    that its checked result is in the memo already (the file was not read at all). A tuple:
    a build makes one per record file, 12,000 at 10,000 versions.
    """

    key: str
    display: str
    text: str
    data: Any
    identity: tuple[int, ...] | None = None
    memoized: bool = False
    sha256: str = ""


@dataclass(frozen=True)
class RawStore:
    root: dict[str, Any]
    display: str
    manifests: tuple[Raw, ...]
    collections: tuple[Raw, ...]
    runs: tuple[Raw, ...]
    histories: tuple[Raw, ...]
    events: tuple[Event, ...]
    problems: tuple[Problem, ...]


def load_raw(backend: Backend, memo: Memo | None = None) -> RawStore:
    """Read every record of a store; problems are collected, never raised (but the root).

    With a ``memo`` (local stores), manifests whose checked result is memoized are not read,
    and histories are parsed once per file version (see :mod:`sitegen.store.memo`).

    The event log is read first: writers commit a version by its event after writing its
    manifest, so a version committed while the store is read has its manifest read too
    (read the other way round, it would be an event without a manifest: an error).
    """
    root = check_root(backend)
    events, log_problems = read_events(backend, memo)
    problems = list(log_problems)
    manifests, collections = _read_artifacts(backend, problems, memo)
    runs, histories = _read_runs(backend, problems, memo)
    return RawStore(
        root,
        backend.display(""),
        tuple(manifests),
        tuple(collections),
        tuple(runs),
        tuple(histories),
        tuple(events),
        tuple(problems),
    )


def _read_artifacts(
    backend: Backend, problems: list[Problem], memo: Memo | None
) -> tuple[list[Raw], list[Raw]]:
    manifests: list[Raw] = []
    collections: list[Raw] = []
    for kind, key in artifact_files(backend):
        if kind == "collection":
            collections.append(read_yaml(backend, key, problems))
        else:
            manifests.append(_read_record(backend, key, problems, memo, "manifest"))
    return manifests, collections


def artifact_files(backend: Backend) -> Iterator[tuple[str, str]]:
    """``("collection", key)`` of each ``collection.yaml`` and ``("manifest", key)`` of each
    version's manifest, in the store's order."""
    for type_ in backend.children(ARTIFACTS):
        for name in backend.children(f"{ARTIFACTS}/{type_}"):
            base = f"{ARTIFACTS}/{type_}/{name}"
            for entry in backend.children(base):
                if entry == "collection.yaml":
                    yield "collection", f"{base}/{entry}"
                elif VERSION_RE.match(entry):
                    key = f"{base}/{entry}/manifest.json"
                    if backend.exists(key):
                        yield "manifest", key


def _read_record(
    backend: Backend, key: str, problems: list[Problem], memo: Memo | None, kind: str
) -> Raw:
    """A manifest or run record; not read at all when the memo has checked it already."""
    if memo is None:
        return read_json(backend, key, problems)
    identity = backend.identity(key)
    if (kind, key, identity) in memo:
        return Raw(key, backend.display(key), "", None, identity, memoized=True)
    return read_json(backend, key, problems)._replace(identity=identity)


def _read_runs(
    backend: Backend, problems: list[Problem], memo: Memo | None
) -> tuple[list[Raw], list[Raw]]:
    runs: list[Raw] = []
    histories: list[Raw] = []
    for run_id in backend.children(RUNS):
        if backend.exists(run_key(run_id)):
            runs.append(_read_record(backend, run_key(run_id), problems, memo, "run"))
        if backend.exists(history_key(run_id)):
            histories.append(read_history(backend, history_key(run_id), problems, memo))
    return runs, histories


def history_files(backend: Backend) -> list[str]:
    """The key of every run's history."""
    return [history_key(r) for r in backend.children(RUNS) if backend.exists(history_key(r))]


LOG_CHUNK = 1024  # events per memo entry: appending rewrites only the last chunk


def _log_key(start: int) -> MemoKey:
    return ("log", EVENTS, (start,))


def read_events(backend: Backend, memo: Memo | None) -> tuple[list[Event], list[Problem]]:
    """The event log; with a memo, only events after the unchanged prefix are read again.

    The checked log is memoized in chunks of :data:`LOG_CHUNK` events, each under the
    identities of its event files, so a build after an append rewrites one small chunk.
    """
    if memo is None:
        return read_log(backend)
    seqs = list_event_seqs(backend)
    identities = tuple(backend.identity(event_key(seq)) for seq in seqs)
    known: list[Event] = []
    for start in range(0, len(identities), LOG_CHUNK):
        chunk = memo.get(_log_key(start))
        if chunk is None or chunk[0] != identities[start : start + LOG_CHUNK]:
            break
        known.extend(chunk[1])
    events, problems = read_log(backend, known, seqs)
    if not problems and [e.seq for e in events] == list(range(len(identities))):
        for start in range(len(known), len(identities), LOG_CHUNK):
            stop = start + LOG_CHUNK
            memo[_log_key(start)] = (identities[start:stop], tuple(events[start:stop]))
    return events, problems


def read_history(
    backend: Backend,
    key: str,
    problems: list[Problem],
    memo: MutableMapping[MemoKey, Any] | None,
) -> Raw:
    """A history's rows and the sha256 of its text (the text is not kept when memoized)."""
    if memo is None:
        return read_jsonl(backend, key, problems)
    identity = backend.identity(key)
    memo_key = ("history", key, identity)
    if memo_key in memo:
        sha, rows, found = memo[memo_key]
        problems.extend(found)
        return Raw(key, backend.display(key), "", rows, identity, True, sha)
    found_here: list[Problem] = []
    raw = read_jsonl(backend, key, found_here)
    problems.extend(found_here)
    rows = PackedRows.of(raw.data)  # its curves, made for the memo, serve this build too
    memo[memo_key] = (raw.sha256, rows, tuple(found_here))
    return raw._replace(data=rows, identity=identity)


def _decode(backend: Backend, key: str, problems: list[Problem]) -> str | None:
    try:
        return backend.read(key).decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(backend.display(key), None, f"not UTF-8 text: {exc.reason}"))
    except OSError as exc:  # a directory, a symbolic link, no permission
        problems.append(Problem(backend.display(key), None, f"unreadable: {unreadable(exc)}"))
    return None


def read_json(backend: Backend, key: str, problems: list[Problem]) -> Raw:
    text = _decode(backend, key, problems)
    data, refusal = None, None
    if text is not None:
        try:
            data = json.loads(text)
            refusal = refused(data) if may_be_too_deep(text) else None
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(
                    backend.display(key),
                    exc.lineno,
                    f"invalid JSON: {exc.msg}",
                    "the file was edited by hand or truncated",
                )
            )
        except ValueError as exc:  # a number Python will not convert
            refusal = refused_number(exc)
        except RecursionError:
            refusal = DEEP
        if refusal is not None:
            data = None
            problems.append(
                Problem(backend.display(key), None, f"refused: {refusal[0]}", refusal[1])
            )
    return Raw(key, backend.display(key), text or "", data)


def read_jsonl(backend: Backend, key: str, problems: list[Problem]) -> Raw:
    """One row per line; ``sha256`` is the text's (pages are keyed by it)."""
    text = _decode(backend, key, problems) or ""
    rows = _plain_rows(text)
    if rows is not None:
        return Raw(key, backend.display(key), text, rows, sha256=sha256_hex(text.encode("utf-8")))
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _json_line(line)
            refusal = refused(row) if may_be_too_deep(line) else None
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(backend.display(key), lineno, f"invalid JSON line: {exc.msg}", _CUT_LINE)
            )
            continue
        except ValueError as exc:
            refusal = refused_number(exc)
        except RecursionError:
            refusal = DEEP
        if refusal is None:
            rows.append(row)
        else:
            why, hint = refusal
            problems.append(Problem(backend.display(key), lineno, f"refused: {why}", hint))
    return Raw(key, backend.display(key), text, rows, sha256=sha256_hex(text.encode("utf-8")))


_DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
"""One JSON value at an index, and its end: ``raw_decode`` without its Python layer."""


def _plain_rows(text: str) -> list[Any] | None:
    """The rows of a history whose every line is one JSON value and nothing else (no blank
    line, no surrounding whitespace: what writers write) and no row nested deeply, or None
    (read line by line)."""
    rows = []
    try:
        for line in text.splitlines():
            value, end = _SCAN(line, 0)
            if end != len(line):
                return None
            rows.append(value)
    except (StopIteration, ValueError, RecursionError):
        return None
    return None if may_be_too_deep(text, len(rows)) else rows


_CUT_LINE = "a writer may have been killed mid-line; the rest is kept"


def _json_line(line: str) -> Any:
    """``json.loads(line)`` without its per-call overhead (histories have many lines)."""
    text = line.strip(" \t\r\n")
    value, end = _DECODER.raw_decode(text)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def read_yaml(backend: Backend, key: str, problems: list[Problem]) -> Raw:
    text = _decode(backend, key, problems)
    data = None
    if text is not None:
        data, problem = parse_yaml(text, backend.display(key))
        if problem is not None:
            problems.append(problem)
    return Raw(key, backend.display(key), text or "", data)


def parse_yaml(text: str, display: str) -> tuple[Any, Problem | None]:
    """Safe-load YAML (C loader when available) turning syntax errors into a located problem;
    a document nested too deeply or too large with its aliases expanded is refused."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
        refusal = refused(data)
    except RecursionError:
        refusal = DEEP
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        return None, Problem(
            display, line, f"invalid YAML: {exc.problem}", "check indentation and quoting"
        )
    except yaml.YAMLError as exc:
        return None, Problem(display, None, f"invalid YAML: {exc}")
    except ValueError as exc:
        refusal = refused_number(exc)
    if refusal is not None:
        return None, Problem(display, None, f"refused: {refusal[0]}", refusal[1])
    return data, None
