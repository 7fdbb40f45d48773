"""A local store listed in one walk, on the build's second core.

A build asks a local store for ~75,000 names, existence checks and file identities at
10,000 versions (:mod:`sitegen.store.memo` keys its entries by identity). One walk of the
store answers them all; :class:`ListedBackend` runs it in a forked child while the build
unpickles its memo, and then answers from the listing. It is the local counterpart of the
S3 snapshot: a view of the store as it was when the build started (what a build reads
was already there, since stored files are never rewritten in place).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from sitegen.background import Background
from sitegen.store.backend import TEMP_PREFIX, LocalBackend

Identity = tuple[int, ...]


@dataclass(frozen=True)
class Listing:
    """``folders``: folder key -> its sorted names (temp files left out); ``files``: regular
    file key -> identity. Links and unreadable folders are left out (asked directly)."""

    folders: dict[str, list[str]]
    files: dict[str, Identity]


def list_store(root: str) -> Listing:
    folders: dict[str, list[str]] = {}
    files: dict[str, Identity] = {}
    pending = [""]
    while pending:
        key = pending.pop()
        prefix = f"{key}/" if key else ""
        try:
            entries = list(os.scandir(os.path.join(root, key) if key else root))
        except OSError:
            continue
        names = []
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue
            names.append(entry.name)
            if entry.is_dir(follow_symlinks=False):
                pending.append(prefix + entry.name)
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                files[prefix + entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        folders[key] = sorted(names)
    return Listing(folders, files)


class ListedBackend(LocalBackend):
    """A :class:`LocalBackend` whose names and identities come from one walk of the store,
    started when it is opened; anything the walk left out is asked of the file system."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._walk = Background(partial(list_store, self._root))

    @cached_property
    def listing(self) -> Listing:
        return self._walk.result()

    def forget_listing(self) -> None:
        """Drop the listing once the build has read the store (~20 MB at 10,000 versions,
        kept otherwise by every forked render worker); later questions go to the disk."""
        self.__dict__["listing"] = Listing({}, {})

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
