"""A local store listed in one walk, on the build's second core.

A build asks a local store for ~75,000 names, existence checks and file identities at
10,000 versions (:mod:`sitegen.store.memo` keys its entries by identity). One walk of the
store answers them all; :class:`ListedBackend` runs it in a forked child while the build
unpickles its memo, and then answers from the listing. It is the local counterpart of the
S3 snapshot: a view of the store as it was when the build started (what a build reads
was already there, since stored files are never rewritten in place).

Like the snapshot, it lists the event log first and the rest of the store after it.
Writers write a version's objects and manifest before the event that commits it, so every
event listed has its manifest listed too, even while a run logs versions during the build
(the other way round, a version committed between the two listings would be an event
without its manifest: an error). The build lists the log itself (20,000 files at 10,000
versions, half the walk), then forks the walk of the rest, which is done by the time the
memo is loaded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from sitegen.background import Background
from sitegen.store.backend import TEMP_PREFIX, LocalBackend, file_identity
from sitegen.store.format import ARTIFACTS, EVENTS, VERSION_RE

MANIFEST = "manifest.json"

Identity = tuple[int, ...]


@dataclass(frozen=True)
class Listing:
    """``folders``: folder key -> its sorted names (temp files left out); ``files``: regular
    file key -> identity. Links and unreadable folders are left out (asked directly)."""

    folders: dict[str, list[str]]
    files: dict[str, Identity]


def list_store(root: str, top: str = "", skip: Collection[str] = ()) -> Listing:
    """Every folder's names and every regular file's identity below ``root``/``top``, but
    in the folders ``skip`` names (keys, such as ``events``).

    A version folder holds only its manifest, so its manifest is stat'ed directly instead of
    listing 10,000 folders (a third of the walk); asked for its names, the disk answers.
    """
    folders: dict[str, list[str]] = {}
    files: dict[str, Identity] = {}
    pending = [top]
    while pending:
        key = pending.pop()
        prefix = f"{key}/" if key else ""
        try:
            entries = list(os.scandir(os.path.join(root, key) if key else root))
        except OSError:
            continue
        versions = key.startswith(f"{ARTIFACTS}/") and key.count("/") == 2  # type/name
        names = []
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue
            names.append(entry.name)
            if versions and VERSION_RE.match(entry.name) and entry.is_dir(follow_symlinks=False):
                _add_file(files, f"{prefix}{entry.name}/{MANIFEST}", f"{entry.path}/{MANIFEST}")
            elif entry.is_dir(follow_symlinks=False):
                if prefix + entry.name not in skip:
                    pending.append(prefix + entry.name)
            elif entry.is_file(follow_symlinks=False):
                files[prefix + entry.name] = file_identity(entry.stat(follow_symlinks=False))
        folders[key] = sorted(names)
    return Listing(folders, files)


def _add_file(files: dict[str, Identity], key: str, path: str) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        files[key] = file_identity(st)


class ListedBackend(LocalBackend):
    """A :class:`LocalBackend` whose names and identities come from one walk of the store,
    started when it is opened; anything the walk left out is asked of the file system."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._log = list_store(self._root, EVENTS)
        self._walk = Background(partial(list_store, self._root, skip=(EVENTS,)))

    @cached_property
    def listing(self) -> Listing:
        """The walk, and the event log this process listed before starting it."""
        walked = self._walk.result()
        walked.folders.update(self._log.folders)
        walked.files.update(self._log.files)
        return walked

    def forget_listing(self) -> None:
        """Drop the listing once the build has read the store (~20 MB at 10,000 versions,
        kept otherwise by every forked render worker); later questions go to the disk."""
        self.__dict__["listing"] = Listing({}, {})

    def keys(self) -> list[str]:
        """Every file of the store, as listed (what ``sitegen sync`` copies)."""
        return sorted(self.listing.files)

    def children(self, prefix: str) -> list[str]:
        names = self.listing.folders.get(prefix)
        return list(names) if names is not None else super().children(prefix)

    def exists(self, key: str) -> bool:
        listing = self.listing
        return key in listing.files or key in listing.folders or super().exists(key)

    def identity(self, key: str) -> tuple[int, ...]:
        found = self.listing.files.get(key)
        return found if found is not None else super().identity(key)

    def __del__(self) -> None:
        walk = getattr(self, "_walk", None)
        if walk is not None:
            walk.cancel()
