"""Typed, checked records from raw store files: the *validate* stage.

Pure: takes a :class:`~sitegen.store.reader.RawStore`, returns :class:`Records` and
every problem found, each located as ``path:line``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, SupportsIndex, TypeVar

from sitegen.errors import Problem
from sitegen.store.consistency import check_cycles, check_lineage_refs, check_log_against_files
from sitegen.store.events import Event, LogState, replay
from sitegen.store.files import FileEntry, PackedFiles, is_file_uri, pack
from sitegen.store.format import (
    SHA256_RE,
    casefold_collisions,
    check_file_path,
    check_name,
    check_reference_uri,
    check_run_id,
    check_type,
    entries_digest,
    plain_files,
    sha256_hex,
)
from sitegen.store.memo import Memo, MemoKey
from sitegen.store.packed import Blob, blob_for_pickle
from sitegen.store.reader import Raw, RawStore
from sitegen.store.rows import PackedRows, valid_row

RUN_STATUSES = frozenset({"running", "finished", "failed", "crashed"})
REF_RE = re.compile(r"^([a-z0-9][a-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*):v(0|[1-9][0-9]*)\Z")


@dataclass(frozen=True)
class VersionRecord:
    type: str
    name: str
    version: int
    digest: str
    created_at: str
    run: str | None
    description: str
    metadata: Mapping[str, Any]
    files: Sequence[FileEntry]
    source: Mapping[str, Any] | None
    display: str
    manifest_sha256: str

    @functools.cached_property
    def collection(self) -> str:
        return f"{self.type}/{self.name}"

    @functools.cached_property
    def ref(self) -> str:
        """Asked for ~130,000 times per build at 10,000 versions: formatted once."""
        return f"{self.type}/{self.name}:v{self.version}"

    @functools.cached_property
    def with_bytes(self) -> tuple[FileEntry, ...]:
        """The entries whose bytes can be checked here: stored objects and ``file:``
        references. Kept with the record in the memo, so a build does not scan every entry."""
        return tuple(f for f in self.files if f.ref is None or is_file_uri(f.ref))

    @functools.cached_property
    def total_size(self) -> int:
        """Bytes of all files (kept in the memo like :attr:`with_bytes`)."""
        return sum(f.size for f in self.files)

    @functools.cached_property
    def has_references(self) -> bool:
        return any(f.ref for f in self.files)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickle the files packed (:mod:`sitegen.store.files`) with the values derived from
        them, so that a memoized version is loaded and summed up without unpacking them."""
        derived = {"with_bytes": self.with_bytes, "total_size": self.total_size}
        state = {**vars(self), **derived, "has_references": self.has_references}
        files = state.pop("files")
        state.pop("ref", None)  # cheap to format again: the memo stays lean
        state.pop("collection", None)
        return (_version_record, (state, blob_for_pickle(pack(files), int(protocol)), len(files)))


def _version_record(state: dict[str, Any], blob: Blob, count: int) -> VersionRecord:
    record = object.__new__(VersionRecord)
    collection = f"{state['type']}/{state['name']}"  # what the cached properties would format
    ref = f"{collection}:v{state['version']}"
    vars(record).update(state, files=PackedFiles(blob, count), collection=collection, ref=ref)
    return record  # frozen: set once, here


def memo_schema() -> str:
    """What memoized records look like; part of the memo's folder name."""
    fields = [f.name for f in dataclasses.fields(VersionRecord)]
    fields += ["packed", "with_bytes", "total_size", "has_references"]
    fields += [f.name for f in dataclasses.fields(RunRecord)] + list(RunParse._fields)
    shape = fields + list(FileEntry._fields)
    return "-" + sha256_hex(repr(shape).encode())[:8]


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


@dataclass(frozen=True)
class CollectionInfo:
    type: str
    name: str
    description: str
    tags: tuple[str, ...]
    display: str

    @property
    def collection(self) -> str:
        return f"{self.type}/{self.name}"


@dataclass(frozen=True)
class Records:
    project: str
    store_display: str
    versions: tuple[VersionRecord, ...]
    runs: tuple[RunRecord, ...]
    histories: Mapping[str, Sequence[Mapping[str, Any]]]
    collections: Mapping[str, CollectionInfo]
    events: tuple[Event, ...]
    state: LogState
    problems: tuple[Problem, ...]
    history_sha256: Mapping[str, str] = field(default_factory=dict)


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


class _Checker:
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


def check_records(raw: RawStore, memo: Memo | None = None) -> Records:
    """Check every record; with a ``memo``, each manifest is parsed and checked once."""
    problems: list[Problem] = list(raw.problems)
    state = replay(raw.events)
    versions = [
        v for m in raw.manifests if (v := check_manifest(m, state, problems, memo)) is not None
    ]
    runs = [r for x in raw.runs if (r := check_run(x, state, problems, memo)) is not None]
    histories = {h.key.split("/")[1]: checked_history(h, problems, memo) for h in raw.histories}
    collections = {c.collection: c for x in raw.collections if (c := check_collection(x, problems))}
    check_lineage_refs(versions, runs, problems)
    check_cycles(runs, problems)
    check_log_against_files(state, versions, raw.display, problems)
    project = str(raw.root.get("project", ""))
    return Records(
        project,
        raw.display,
        tuple(versions),
        tuple(runs),
        histories,
        {k: collections[k] for k in sorted(collections)},
        raw.events,
        state,
        tuple(problems),
        {h.key.split("/")[1]: h.sha256 for h in raw.histories},
    )


def check_manifest(
    raw: Raw, state: LogState, problems: list[Problem], memo: Memo | None = None
) -> VersionRecord | None:
    """A committed, well-formed version, or None (with problems saying why)."""
    _, type_, name, vdir, _ = raw.key.split("/")
    coll, version = f"{type_}/{name}", int(vdir[1:])
    if (coll, version) not in state.versions:
        if raw.memoized or raw.data is not None:
            _Checker(raw, problems).fail(
                f"uncommitted version {coll}:{vdir}: no version.created event in the log",
                hint="a writer died before committing, or the directory was added by hand; "
                "it is left out of the site",
                warning=True,
            )
        return None
    record, found = memoized_manifest(raw, memo)
    problems.extend(found)
    if record is not None and state.manifest_hashes.get((coll, version)) not in (
        None,
        "",
        record.manifest_sha256,
    ):
        _Checker(raw, problems).fail(
            "manifest differs from the one committed in the event log",
            hint="versions are immutable; restore the original manifest",
        )
    return record


def memoized_manifest(
    raw: Raw, memo: MutableMapping[MemoKey, Any] | None
) -> tuple[VersionRecord | None, tuple[Problem, ...]]:
    """:func:`parse_manifest` and its problems, memoized (see :func:`_memoized`)."""
    return _memoized("manifest", raw, memo, _manifest_entry)


def _manifest_entry(raw: Raw) -> tuple[VersionRecord | None, tuple[Problem, ...]]:
    problems: list[Problem] = []
    record = parse_manifest(raw, problems)
    return record, tuple(problems)


Entry = TypeVar("Entry", bound=tuple[Any, ...])


def _memoized(
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


def parse_manifest(raw: Raw, problems: list[Problem]) -> VersionRecord | None:
    """Everything about one manifest that needs no other file (memoizable)."""
    c = _Checker(raw, problems)
    data = raw.data
    if data is None:
        return None
    if not isinstance(data, dict):
        c.fail("manifest must be a JSON object")
        return None
    _, type_, name, vdir, _ = raw.key.split("/")
    version = int(vdir[1:])
    for key, expected in (("type", type_), ("name", name), ("version", version)):
        if data.get(key) != expected:
            c.fail(
                f"'{key}' is {data.get(key)!r} but the manifest lives at {type_}/{name}/{vdir}",
                key,
                hint="manifests must not be moved or renamed",
            )
    for why in (check_type(type_), check_name(name)):
        if why:
            c.fail(why)
    checked = _check_files(c, data.get("files"))
    if checked is None:
        return None
    files, digest = checked
    if data.get("digest") != digest:
        c.fail(
            f"'digest' does not match the files: recorded {data.get('digest')!r}, computed {digest}",
            "digest",
            hint="the file list was edited after the version was committed",
        )
    return VersionRecord(
        type_,
        name,
        version,
        digest,
        str(c.get(data, "created_at", str, "", "a timestamp string")),
        c.get(data, "run", (str, type(None)), None, "a run id or null"),
        str(c.get(data, "description", str, "", "a markdown string")),
        c.get(data, "metadata", dict, {}, "an object"),
        files,
        c.get(data, "source", (dict, type(None)), None, "an object"),
        raw.display,
        sha256_hex(raw.text.encode("utf-8")),
    )


def _check_files(c: _Checker, files: Any) -> tuple[tuple[FileEntry, ...], str] | None:
    """The entries, sorted by path, and their content digest; None when any is invalid."""
    if not isinstance(files, dict):
        c.fail("'files' must be an object of path -> {sha256, size}", "files")
        return None
    plain = plain_files(files)
    if plain is not None:
        return tuple(FileEntry(*entry) for entry in plain[0]), plain[1]
    entries: list[FileEntry] = []
    ok = True
    for path, entry in sorted(files.items()):
        why = _file_entry_problem(path, entry)
        if why is not None:
            c.fail(
                why,
                "files",
                path if isinstance(path, str) else "",
                hint="paths are relative, '/'-separated, "
                "without '..'; entries are {sha256, size[, ref]}",
            )
            ok = False
            continue
        entries.append(FileEntry(path, entry["sha256"], entry["size"], entry.get("ref") or None))
    for first, second in casefold_collisions(f.path for f in entries):
        c.fail(
            f"paths {first!r} and {second!r} collide on case-insensitive filesystems",
            "files",
            second,
        )
        ok = False
    return (tuple(entries), entries_digest(entries)) if ok else None


def _file_entry_problem(path: Any, entry: Any) -> str | None:
    why = check_file_path(path)
    if why is None and not (
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and SHA256_RE.match(entry["sha256"])
    ):
        why = f"file {path!r} needs a 'sha256' of 64 lowercase hex digits"
    if why is None and not (type(entry.get("size")) is int and entry["size"] >= 0):
        why = f"file {path!r} needs a non-negative integer 'size'"
    if why is None and entry.get("ref") is not None:
        why = check_reference_uri(entry.get("ref"))
    return why


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
    :func:`_memoized`)."""
    return _memoized("run", raw, memo, _run_entry)


def _run_entry(raw: Raw) -> RunParse:
    problems: list[Problem] = []
    record = parse_run(raw, problems)
    return RunParse(record, tuple(problems), sha256_hex(raw.text.encode("utf-8")))


def parse_run(raw: Raw, problems: list[Problem]) -> RunRecord | None:
    """Everything about one run record that needs no other file (its status as written)."""
    c = _Checker(raw, problems)
    data = raw.data
    if data is None:
        return None
    if not isinstance(data, dict):
        c.fail("run record must be a JSON object")
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


def _refs(c: _Checker, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
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
    if memo is not None and raw.identity is not None and len(rows) == len(raw.data or ()):
        memo[memo_key] = True
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


def check_collection(raw: Raw, problems: list[Problem]) -> CollectionInfo | None:
    c = _Checker(raw, problems)
    _, type_, name, _ = raw.key.split("/")
    data = raw.data if raw.data is not None else {}
    if not isinstance(data, dict):
        c.fail("collection.yaml must be a mapping with 'description' and 'tags'")
        return None
    for key in sorted(set(data) - {"description", "tags"}):
        c.fail(f"unknown key {key!r}", key, hint="allowed keys: description, tags", warning=True)
    tags = c.get(data, "tags", list, [], "a list of strings")
    return CollectionInfo(
        type_,
        name,
        str(c.get(data, "description", str, "", "a markdown string")),
        tuple(str(t) for t in tags),
        raw.display,
    )
