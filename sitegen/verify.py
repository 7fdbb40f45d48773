"""``verify``: re-hash everything and prove the store follows from its event log.

Beyond what loading checks (manifest digests, the hash chain, versions outside the log),
verify re-hashes every stored object, checks that finished run records are the ones the
log sealed, and hashes references whose bytes are reachable locally.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sitegen.errors import Problem
from sitegen.store.backend import Backend
from sitegen.store.files import FileEntry, is_file_uri
from sitegen.store.format import object_key, run_key, sha256_hex
from sitegen.store.memo import Memo, MemoKey
from sitegen.store.reader import load_raw
from sitegen.store.records import Records, VersionRecord, check_records
from sitegen.store.run_records import RunParse


@dataclass(frozen=True)
class VersionIntegrity:
    ref: str
    ok: bool
    checked_files: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class VerifyReport:
    """``failed``: the ref of each version whose bytes do not match, with why."""

    records: Records
    problems: tuple[Problem, ...]
    failed: dict[str, tuple[str, ...]]
    objects_checked: int

    @property
    def ok(self) -> bool:
        return not self.problems

    @cached_property
    def versions(self) -> tuple[VersionIntegrity, ...]:
        """Every version's result, in the records' order (made when asked: a build needs
        these 10,000 objects only in the process rendering the audit pages)."""
        failed = self.failed
        return tuple(
            VersionIntegrity(v.ref, v.ref not in failed, len(v.files), failed.get(v.ref, ()))
            for v in self.records.versions
        )


def _strict(problem: Problem) -> Problem:
    """For an audit, every finding is an error (a version outside the log included)."""
    return Problem(problem.path, problem.line, problem.message, problem.hint, "error")


def local_reference(uri: str) -> Path | None:
    if not is_file_uri(uri):
        return None
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return None


def check_file(
    backend: Backend,
    version: VersionRecord,
    entry: FileEntry,
    hashed: dict[str, str | None],
    memo: Memo | None = None,
) -> str | None:
    """Why a file entry does not match its bytes, or None (references without local bytes pass)."""
    if entry.ref is not None:
        path = local_reference(entry.ref)
        if path is None or not path.is_file():
            return None
        data = path.read_bytes()
        got = sha256_hex(data)
        return (
            None
            if got == entry.sha256 and len(data) == entry.size
            else f"reference {entry.ref} does not match its recorded sha256/size"
        )
    found = hashed.get(entry.sha256, _UNSEEN)
    if found is _UNSEEN:
        found = hashed[entry.sha256] = memoized_fingerprint(backend, entry.sha256, memo)
    if found == f"{entry.sha256}:{entry.size}":
        return None
    if found is None:
        return f"{entry.path}: object {entry.sha256[:12]}… is missing (or not a regular file)"
    return f"{entry.path}: object {entry.sha256[:12]}… is corrupted (sha256/size do not match)"


_UNSEEN = "unseen"  # not a fingerprint, nor None (a missing object)


def object_fingerprint(backend: Backend, sha256: str) -> str | None:
    """``"<sha256>:<size>"`` of the bytes stored for ``sha256``, or None when they are missing.

    A backend that can vouch for an object without downloading it (an object store's
    server-verified SHA-256, see :class:`sitegen.store.s3_snapshot.S3Snapshot`) does so itself.
    """
    vouch = getattr(backend, "object_fingerprint", None)
    if callable(vouch):
        found = vouch(sha256)
        return found if isinstance(found, str) else None
    try:
        data = backend.read(object_key(sha256))
    except OSError:  # missing, or not a regular file (a link is not followed)
        return None
    return f"{sha256_hex(data)}:{len(data)}"


def memoized_fingerprint(
    backend: Backend, sha256: str, memo: MutableMapping[MemoKey, Any] | None
) -> str | None:
    """:func:`object_fingerprint`, hashed again only when the object's file changed.

    Builds re-hashing every stored object would read the whole store each time (gigabytes of
    weights); the memo keeps each result under the file's identity (inode, size, mtime,
    ctime), which an edit or a replacement changes. ``sitegen verify`` passes no memo.
    """
    if memo is None:
        return object_fingerprint(backend, sha256)
    key = object_key(sha256)
    try:
        identity = backend.identity(key)
    except OSError:
        return None
    memo_key = ("object", key, identity)
    found: str | None = memo.get(memo_key)  # only fingerprints are kept, never None
    if found is not None:
        return found
    found = object_fingerprint(backend, sha256)
    if found is not None:
        memo[memo_key] = found
    return found


def check_sealed_runs(
    backend: Backend, records: Records, memo: Memo | None = None
) -> list[Problem]:
    """A finished run's record must be the one whose sha256 the run.finished event holds."""
    sealed: dict[str, str] = {}
    for event in records.events:
        if event.type == "run.finished" and isinstance(event.data.get("record_sha256"), str):
            sealed[str(event.data.get("run_id"))] = event.data["record_sha256"]
    problems = []
    for run_id, expected in sorted(sealed.items()):
        actual = _run_sha256(backend, run_key(run_id), memo)
        if actual is None:
            problems.append(
                Problem(backend.display(run_key(run_id)), None, "finished run record is missing")
            )
        elif actual != expected:
            problems.append(
                Problem(
                    backend.display(run_key(run_id)),
                    None,
                    "run record was changed after the run finished",
                    "restore it from a backup",
                )
            )
    return problems


def _run_sha256(backend: Backend, key: str, memo: Memo | None) -> str | None:
    """The sha256 of a run record's bytes: the memo has it when the file is unchanged since
    it was parsed (see :func:`sitegen.store.run_records.memoized_run`)."""
    if memo is not None:
        with contextlib.suppress(OSError):
            parsed: RunParse | None = memo.get(("run", key, backend.identity(key)))
            if parsed is not None:
                return parsed.sha256
    try:
        return sha256_hex(backend.read(key))
    except OSError:  # missing, or not a regular file (loading has said why)
        return None


def verify(backend: Backend, progress: Callable[[str], None] | None = None) -> VerifyReport:
    return verify_loaded(backend, check_records(load_raw(backend)), progress)


def verify_loaded(
    backend: Backend,
    records: Records,
    progress: Callable[[str], None] | None = None,
    memo: Memo | None = None,
) -> VerifyReport:
    """Verify a store whose records are already loaded (the build does this once, with its
    records memo: objects whose files are unchanged since then are not read again)."""
    problems = [_strict(p) for p in records.problems]
    hashed: dict[str, str | None] = {}
    failed: dict[str, tuple[str, ...]] = {}
    for version in records.versions:
        if progress:
            progress(version.ref)
        found = [
            why
            for f in version.with_bytes
            if (why := check_file(backend, version, f, hashed, memo))
        ]
        if found:
            hint = "restore the object from a backup"
            problems.extend(Problem(version.display, None, why, hint) for why in found)
            failed[version.ref] = tuple(found)
    problems.extend(check_sealed_runs(backend, records, memo))
    return VerifyReport(records, tuple(sorted(problems)), failed, len(hashed))


def report_json(report: VerifyReport) -> str:
    body = {
        "format": 1,
        "ok": report.ok,
        "objects_checked": report.objects_checked,
        "events": len(report.records.events),
        "log_head": report.records.state.head,
        "problems": [
            {"path": p.path, "line": p.line, "message": p.message, "hint": p.hint}
            for p in report.problems
        ],
        "versions": [
            {"ref": v.ref, "ok": v.ok, "files": v.checked_files, "problems": list(v.problems)}
            for v in report.versions
        ],
    }
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)


def store_root_digest(records: Records) -> str:
    """sha256 over sorted ``ref digest`` lines and the event-log head: the store's identity."""
    lines = sorted(f"{v.ref} {v.digest}\n" for v in records.versions)
    lines.append(f"log {records.state.head or ''}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()
