"""What every importer shares: the plan it produces, and safe access to untrusted sources.

An importer reads a source (an MLflow store, W&B run directories and manifests, a DVC
repository) into an :class:`ImportPlan` — versions and runs described with stable
identities — without writing anything. :mod:`sitegen.importers.apply` then writes the
plan into a store, idempotently.

Everything a source says is untrusted: a path inside a manifest or a lock file is checked
with the store's own rules (:func:`sitegen.store.format.check_file_path`) and must stay
inside the source directory, symbolic links are never followed, and bytes are hashed on
import (the source's own digests are checked, never trusted).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitegen.errors import Problem
from sitegen.store.format import casefold_collisions, check_file_path

CHUNK = 1 << 20
PATH_HINT = "paths in a source must be relative, '/'-separated and stay inside it; the entry was not imported"


@dataclass(frozen=True)
class FileSpec:
    """One file of a version: our sha256, its size, where the bytes are, or a reference."""

    path: str
    sha256: str
    size: int
    local: Path | None = None
    ref: str | None = None
    data: bytes | None = None

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> FileSpec:
        """A file whose bytes the importer generates (e.g. a dataset description)."""
        return cls(path, hashlib.sha256(data).hexdigest(), len(data), data=data)

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"sha256": self.sha256, "size": self.size}
        if self.ref:
            entry["ref"] = self.ref
        return entry


@dataclass(frozen=True)
class VersionSpec:
    """A version to commit. ``key`` is the plan-local identity runs use to name it."""

    key: str
    type: str
    name: str
    files: tuple[FileSpec, ...]
    created_at: str
    run: str | None
    source: Mapping[str, Any]
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """A run record (without inputs/outputs), the versions it used and produced, its history."""

    record: Mapping[str, Any]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    history: tuple[Mapping[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return str(self.record["id"])


@dataclass
class ImportPlan:
    tool: str
    versions: list[VersionSpec] = field(default_factory=list)
    runs: list[RunSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def error(self, where: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(where, None, message, hint))

    def warn(self, where: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(where, None, message, hint, "warning"))


def run_record(run_id: str, **fields: Any) -> dict[str, Any]:
    """A complete run record with the format's defaults; ``fields`` override them."""
    record: dict[str, Any] = {
        "format": 1,
        "id": run_id,
        "name": run_id,
        "job_type": "",
        "status": "finished",
        "started_at": "",
        "finished_at": None,
        "config": {},
        "summary": {},
        "git": {},
        "host": "",
        "user": "",
        "notes": "",
        "tags": [],
    }
    record.update(fields)
    return record


# --- identities ---------------------------------------------------------------------------

_RUN_ID_BAD = re.compile(r"[^A-Za-z0-9_-]+")
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _sanitise(raw: str, bad: re.Pattern[str], limit: int) -> str:
    cleaned = bad.sub("-", raw).strip("-._")
    if cleaned == raw and 0 < len(raw) <= limit:
        return raw
    stem = cleaned[: limit - 9] or "x"
    return f"{stem}-{short_hash(raw)}"


def sanitise_run_id(raw: str) -> str:
    """``raw`` if it is a valid run id, else a readable, deterministic, collision-safe one."""
    return _sanitise(raw, _RUN_ID_BAD, 64)


def sanitise_name(raw: str) -> str:
    """The same for collection names ('/' and spaces become '-', plus a hash of the original)."""
    return _sanitise(raw, _NAME_BAD, 128)


def sanitise_type(raw: str) -> str:
    """An artifact type: lowercase, 1-64 characters."""
    return _sanitise(raw.lower(), _NAME_BAD, 64)


def iso_from_ms(ms: int | float | None) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds; '' when unknown."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(int(ms) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_text(text: object) -> str:
    """Normalise an ISO 8601 timestamp from a source to UTC with milliseconds ('' if invalid)."""
    if not isinstance(text, str) or not text:
        return ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- untrusted paths and bytes --------------------------------------------------------------


def rel_display(src: Path, path: Path) -> str:
    """A source path as shown in problems and recorded in ``source.path``: relative to SRC."""
    try:
        return path.relative_to(src).as_posix() or "."
    except ValueError:
        return str(path)


def safe_join(root: Path, rel: str) -> tuple[Path | None, str | None]:
    """``root/rel`` if ``rel`` is a safe relative path that stays inside ``root``."""
    why = check_file_path(rel)
    if why is not None:
        return None, why
    path = root.joinpath(*rel.split("/"))
    current = root
    for part in rel.split("/"):
        current = current / part
        if current.is_symlink():
            return None, f"{rel!r} goes through a symbolic link; links are not followed"
    return path, None


def hash_file(path: Path) -> tuple[str, str, int]:
    """(sha256 hex, md5 hex, size) of a file, read in chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def walk_tree(root: Path, display: str, plan: ImportPlan) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` as (safe relative path, path); problems for the rest.

    Symbolic links are reported and never followed; unsafe names (a backslash, a control
    character …) are reported, not imported.
    """
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                plan.error(
                    f"{display}/{rel}",
                    "symbolic link in a source tree",
                    "links are not followed; replace it with the file",
                )
            elif name in filenames:
                why = check_file_path(rel)
                if why is None:
                    found.append((rel, path))
                else:
                    plan.error(f"{display}/{rel}", why, PATH_HINT)
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
    return sorted(found)


def files_from_tree(root: Path, display: str, plan: ImportPlan) -> tuple[FileSpec, ...]:
    """A directory's files as stored file entries, hashed now."""
    specs = []
    for rel, path in walk_tree(root, display, plan):
        sha, _, size = hash_file(path)
        specs.append(FileSpec(rel, sha, size, local=path))
    return check_collisions(tuple(specs), display, plan)


def check_collisions(
    files: tuple[FileSpec, ...], display: str, plan: ImportPlan
) -> tuple[FileSpec, ...]:
    for first, second in casefold_collisions(f.path for f in files):
        plan.error(
            display, f"paths {first!r} and {second!r} collide on case-insensitive filesystems"
        )
    return files


def mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON/YAML object, else an empty one (sources are untrusted)."""
    return value if isinstance(value, dict) else {}


def json_number(value: float) -> float | None:
    """A float for a JSON record: non-finite values become null (the format forbids NaN)."""
    return value if value == value and value not in (float("inf"), float("-inf")) else None
