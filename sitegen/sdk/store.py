"""``sitegen.Store``: read and administer a store; resolve ``type/name:alias`` references."""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.errors import InvalidInput, Problem, SitegenError, errors_only
from sitegen.sdk.artifact import Artifact
from sitegen.sdk.clock import utc_now
from sitegen.sdk.jsonable import to_jsonable
from sitegen.store import open_backend
from sitegen.store.events import LogState
from sitegen.store.files import FileEntry
from sitegen.store.format import (
    LATEST,
    REF_RE,
    VERSION_RE,
    check_alias,
    manifest_key,
    object_key,
    sha256_hex,
)
from sitegen.store.reader import load_raw
from sitegen.store.records import Records, check_records
from sitegen.store.writer import Clock, Committed, StoreWriter, check_root


def default_actor(user: str | None = None, host: str | None = None) -> dict[str, str]:
    try:
        who = user or getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return {"user": who, "host": host or socket.gethostname()}


@dataclass(frozen=True)
class ArtifactVersion:
    """One committed version, as returned by ``log_artifact`` and ``use_artifact``."""

    type: str
    name: str
    version: int
    digest: str
    description: str
    metadata: Mapping[str, Any]
    files: tuple[FileEntry, ...]
    created_at: str
    store: Store

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.name}:v{self.version}"

    @property
    def collection(self) -> str:
        return f"{self.type}/{self.name}"

    def download(self, root: str | os.PathLike[str]) -> Path:
        """Materialise stored files under ``root``, verifying each sha256; references are skipped."""
        target = Path(root)
        for entry in self.files:
            if entry.ref is not None:
                continue
            try:
                data = self.store.backend.read(object_key(entry.sha256))
            except FileNotFoundError:
                data = b""
            if sha256_hex(data) != entry.sha256:
                raise SitegenError.single(
                    self.store.backend.display(object_key(entry.sha256)),
                    f"object for {entry.path} does not match its sha256",
                    "the store is corrupted; run `sitegen validate`",
                )
            dest = target.joinpath(*entry.path.split("/"))
            if not dest.resolve().is_relative_to(target.resolve()):
                raise SitegenError.single(
                    entry.path, "refusing to write outside the download directory"
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        return target


class Store:
    """A store on disk: ``Store("store")``. Creates nothing unless ``project`` is given."""

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        project: str | None = None,
        clock: Clock | None = None,
        user: str | None = None,
        host: str | None = None,
    ) -> None:
        self.location = os.fspath(location)
        self.backend = open_backend(location)
        self.writer = StoreWriter(self.backend, clock or utc_now, default_actor(user, host))
        if project is not None:
            self.writer.ensure_root(project)
        else:
            check_root(self.backend)

    def load(self) -> Records:
        """Every record, checked; ``.problems`` lists what is wrong."""
        return check_records(load_raw(self.backend))

    def load_valid(self) -> Records:
        """Every record, or one SitegenError listing every error-level problem."""
        records = self.load()
        if failing := errors_only(records.problems):
            raise SitegenError(sorted(failing))
        return records

    def state(self) -> LogState:
        return self.writer.state()

    def collections(self) -> list[str]:
        return sorted({c for c, _ in self.state().versions})

    def versions(self, collection: str) -> list[ArtifactVersion]:
        type_, name = self._resolve_collection(collection)
        numbers = sorted(v for c, v in self.state().versions if c == f"{type_}/{name}")
        return [self._version(type_, name, n) for n in numbers]

    def runs(self) -> list[str]:
        return [r.id for r in self.load().runs]

    def artifact(self, ref: str) -> ArtifactVersion:
        """Resolve ``[type/]name[:vN|:alias|:latest]`` to a committed version."""
        type_, name, version = self.resolve(ref)
        return self._version(type_, name, version)

    def resolve(self, ref: str) -> tuple[str, str, int]:
        match = REF_RE.match(ref)
        if not match:
            raise _bad_ref(ref, "expected [type/]name[:vN|:alias]")
        coll = f"{match['type'] or ''}{match['name']}"
        type_, name = self._resolve_collection(coll)
        state = self.state()
        numbers = [v for c, v in state.versions if c == f"{type_}/{name}"]
        tag = match["tag"] or LATEST
        if VERSION_RE.match(tag) and int(tag[1:]) in numbers:
            return type_, name, int(tag[1:])
        if tag == LATEST and numbers:
            return type_, name, max(numbers)
        aliased = state.aliases.get(f"{type_}/{name}", {}).get(tag)
        if aliased is None:
            raise _bad_ref(ref, f"{type_}/{name} has no version or alias {tag!r}")
        return type_, name, aliased

    def log_artifact(
        self,
        artifact: Artifact,
        aliases: tuple[str, ...] | list[str] = (),
        run_id: str | None = None,
    ) -> ArtifactVersion:
        for alias in aliases:
            if why := check_alias(alias):
                raise InvalidInput([Problem(f"{artifact.type}/{artifact.name}", None, why)])
        files = {}
        for staged in artifact.files.values():
            if staged.source is not None:
                data = staged.source.read_bytes()
                if sha256_hex(data) != staged.sha256:
                    raise SitegenError.single(
                        str(staged.source),
                        "file changed after it was added",
                        "add it again once it is written",
                    )
                self.writer.put_object(data)
            files[staged.path] = staged.entry()
        manifest = {
            "format": 1,
            "type": artifact.type,
            "name": artifact.name,
            "created_at": self.writer.clock(),
            "run": run_id,
            "description": artifact.description,
            "metadata": to_jsonable(artifact.metadata, f"{artifact.type}/{artifact.name} metadata"),
            "files": files,
        }
        committed = self.writer.commit_version(manifest, tuple(aliases))
        return self._version(committed.type, committed.name, committed.version)

    def set_alias(self, ref: str, alias: str) -> None:
        if why := check_alias(alias):
            raise InvalidInput([Problem(ref, None, why)])
        type_, name, version = self.resolve(ref)
        self.writer.set_alias(f"{type_}/{name}", alias, version)

    def remove_alias(self, collection: str, alias: str) -> None:
        type_, name = self._resolve_collection(collection.split(":")[0])
        self.writer.remove_alias(f"{type_}/{name}", alias)

    def _resolve_collection(self, coll: str) -> tuple[str, str]:
        known = {c for c, _ in self.state().versions}
        if "/" in coll:
            if coll not in known:
                raise _bad_ref(coll, f"no collection {coll!r} in this store")
            type_, name = coll.split("/", 1)
            return type_, name
        matches = sorted(c for c in known if c.split("/", 1)[1] == coll)
        if len(matches) != 1:
            why = "no collection" if not matches else f"ambiguous: {', '.join(matches)}"
            raise _bad_ref(coll, f"{why} named {coll!r}", "write it as type/name")
        type_, name = matches[0].split("/", 1)
        return type_, name

    def _version(self, type_: str, name: str, version: int) -> ArtifactVersion:
        body = json.loads(self.backend.read(manifest_key(type_, name, version)))
        files = tuple(
            FileEntry(p, e["sha256"], e["size"], e.get("ref"))
            for p, e in sorted(body["files"].items())
        )
        return ArtifactVersion(
            type_,
            name,
            version,
            body["digest"],
            body.get("description", ""),
            body.get("metadata", {}),
            files,
            body.get("created_at", ""),
            self,
        )


def _bad_ref(ref: str, message: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(
        [Problem(ref, None, message, hint or "references look like dataset/name:v3 or name:latest")]
    )


__all__ = ["ArtifactVersion", "Committed", "Store"]
