"""``sitegen.Artifact``: files staged for a new version, checked as they are added."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.errors import InvalidInput, Problem
from sitegen.store.format import (
    SHA256_RE,
    check_file_path,
    check_name,
    check_reference_uri,
    check_type,
    fold_path,
)

CHUNK = 1 << 20


@dataclass(frozen=True)
class StagedFile:
    """A file entry of a version to be: local bytes (``source``) or a reference (``ref``)."""

    path: str
    sha256: str
    size: int
    source: Path | None = None
    ref: str | None = None

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sha256": self.sha256, "size": self.size}
        if self.ref:
            out["ref"] = self.ref
        return out


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _invalid(where: str, message: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput([Problem(where, None, message, hint)])


class Artifact:
    """A new version of the collection ``type/name``, assembled before it is logged.

    Shaped like ``wandb.Artifact``: ``add_file``, ``add_dir``, ``add_reference``; names,
    types and paths are checked immediately so mistakes surface where they are made.
    """

    def __init__(
        self,
        name: str,
        type: str,
        description: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        for why in (check_name(name), check_type(type)):
            if why:
                raise _invalid(f"Artifact({name!r}, type={type!r})", why)
        self.name, self.type = name, type
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._files: dict[str, StagedFile] = {}
        self._folded: dict[str, str] = {}

    @property
    def files(self) -> Mapping[str, StagedFile]:
        return dict(self._files)

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None) -> StagedFile:
        path = Path(local_path)
        target = name if name is not None else path.name
        if not path.is_file():
            raise _invalid(str(path), "no such file", "check the path; directories need add_dir()")
        sha, size = hash_file(path)
        return self._stage(StagedFile(target, sha, size, source=path))

    def add_dir(
        self, local_dir: str | os.PathLike[str], name: str | None = None
    ) -> list[StagedFile]:
        """Add every file below ``local_dir`` (sorted), under the prefix ``name`` if given.

        Symlinks are never followed out of the directory: one that points outside it is
        an error, a linked directory is skipped.
        """
        root = Path(local_dir)
        if not root.is_dir():
            raise _invalid(str(root), "no such directory", "add single files with add_file()")
        real_root = root.resolve()
        staged = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                    raise _invalid(
                        str(path),
                        "symlink points outside the directory being added",
                        "add the target explicitly with add_file() if it belongs here",
                    )
                rel = path.relative_to(root).as_posix()
                staged.append(self.add_file(path, f"{name.rstrip('/')}/{rel}" if name else rel))
        return staged

    def add_reference(
        self, uri: str, sha256: str | None = None, size: int | None = None, name: str | None = None
    ) -> StagedFile:
        """Record external data by URI and digest without copying its bytes."""
        if not sha256:
            raise _invalid(
                uri,
                "a reference needs the sha256 of its content",
                "compute it where the data lives, e.g. `sha256sum FILE`",
            )
        if type(size) is not int or size < 0:
            raise _invalid(uri, "a reference needs its size in bytes (a non-negative integer)")
        if why := check_reference_uri(uri):
            raise _invalid(uri, why, "references look like s3://bucket/key or https://host/path")
        if not SHA256_RE.match(sha256.lower()):
            raise _invalid(uri, "sha256 must be 64 hexadecimal digits")
        target = name if name is not None else PurePosixPath(uri.split("?")[0].rstrip("/")).name
        return self._stage(StagedFile(target, sha256.lower(), size, ref=uri))

    def _stage(self, staged: StagedFile) -> StagedFile:
        why = check_file_path(staged.path)
        if why:
            raise _invalid(
                f"{self.type}/{self.name}", why, "use a relative '/'-separated name without '..'"
            )
        other = self._folded.get(fold_path(staged.path))
        if other == staged.path:
            raise _invalid(
                f"{self.type}/{self.name}",
                f"file {staged.path!r} was already added",
                "give the second one another name=",
            )
        if other is not None:
            raise _invalid(
                f"{self.type}/{self.name}",
                f"file {staged.path!r} collides with {other!r}",
                "two entries may not differ only by letter case",
            )
        self._files[staged.path] = staged
        self._folded[fold_path(staged.path)] = staged.path
        return staged
