"""Typed, checked records from raw store files: the *validate* stage.

Pure: takes a :class:`~sitegen.store.reader.RawStore`, returns :class:`Records` and
every problem found, each located as ``path:line``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, SupportsIndex

from sitegen.errors import Problem
from sitegen.store.checker import Checker, memoized
from sitegen.store.consistency import check_cycles, check_lineage_refs, check_log_against_files
from sitegen.store.events import Event, LogState, replay
from sitegen.store.files import FileEntry, PackedFiles, is_file_uri, pack
from sitegen.store.format import (
    SHA256_RE,
    casefold_collisions,
    check_file_path,
    check_name,
    check_reference_uri,
    check_type,
    entries_digest,
    plain_files,
    sha256_hex,
)
from sitegen.store.memo import Memo, MemoKey
from sitegen.store.packed import Blob, blob_for_pickle
from sitegen.store.reader import Raw, RawStore
from sitegen.store.run_records import RunParse, RunRecord, check_run, checked_history


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
        if not self.has_references:
            return tuple(self.files)
        return tuple(f for f in self.files if f.ref is None or is_file_uri(f.ref))

    @functools.cached_property
    def total_size(self) -> int:
        """Bytes of all files (kept in the memo like :attr:`with_bytes`)."""
        return sum(map(_SIZE, self.files))

    @functools.cached_property
    def has_references(self) -> bool:
        return any(map(_REF, self.files))

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickle the files packed (:mod:`sitegen.store.files`) with the values derived from
        them, so that a memoized version is loaded and summed up without unpacking them."""
        derived = {"with_bytes": self.with_bytes, "total_size": self.total_size}
        state = {**vars(self), **derived, "has_references": self.has_references}
        files = state.pop("files")
        state.pop("ref", None)  # cheap to format again: the memo stays lean
        state.pop("collection", None)
        return (_version_record, (state, blob_for_pickle(pack(files), int(protocol)), len(files)))


_SIZE, _REF = itemgetter(2), itemgetter(3)  # of a FileEntry, in C: half a million entries


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
            Checker(raw, problems).fail(
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
        Checker(raw, problems).fail(
            "manifest differs from the one committed in the event log",
            hint="versions are immutable; restore the original manifest",
        )
    return record


def memoized_manifest(
    raw: Raw, memo: MutableMapping[MemoKey, Any] | None
) -> tuple[VersionRecord | None, tuple[Problem, ...]]:
    """:func:`parse_manifest` and its problems, memoized (see :func:`~sitegen.store.checker.memoized`)."""
    return memoized("manifest", raw, memo, _manifest_entry)


def _manifest_entry(raw: Raw) -> tuple[VersionRecord | None, tuple[Problem, ...]]:
    problems: list[Problem] = []
    record = parse_manifest(raw, problems)
    return record, tuple(problems)


def parse_manifest(raw: Raw, problems: list[Problem]) -> VersionRecord | None:
    """Everything about one manifest that needs no other file (memoizable)."""
    c = Checker(raw, problems)
    data = c.json_object("manifest")
    if data is None:
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


def _check_files(c: Checker, files: Any) -> tuple[tuple[FileEntry, ...], str] | None:
    """The entries, sorted by path, and their content digest; None when any is invalid."""
    if not isinstance(files, dict):
        c.fail("'files' must be an object of path -> {sha256, size}", "files")
        return None
    plain = plain_files(files)
    if plain is not None:
        return tuple(map(tuple.__new__, repeat(FileEntry), plain[0])), plain[1]
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


def check_collection(raw: Raw, problems: list[Problem]) -> CollectionInfo | None:
    c = Checker(raw, problems)
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
