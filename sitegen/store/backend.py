"""Where store bytes live. Every write is either atomic-replace or exclusive-create.

The store layer talks to a :class:`Backend` with ``/``-separated keys relative to the
store root, so the local directory (here) and an object store (conditional PUT with
``If-None-Match: *``) offer the same two guarantees:

* :meth:`Backend.put` replaces a key atomically: readers see old or new bytes, never half.
* :meth:`Backend.put_exclusive` creates a key with its full content only if it does not
  exist. Version and event numbers are claimed this way; nothing is ever list-then-write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path
from typing import Protocol

TEMP_PREFIX = ".tmp-"


class Backend(Protocol):
    """Byte storage with atomic replace and exclusive create."""

    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def children(self, prefix: str) -> list[str]: ...
    def put(self, key: str, data: bytes) -> None: ...
    def put_exclusive(self, key: str, data: bytes) -> bool: ...
    def display(self, key: str) -> str: ...
    def identity(self, key: str) -> tuple[int, ...]: ...


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def unreadable(error: OSError) -> str:
    """Why a file could not be read, in words (ELOOP: a store's symbolic link, not followed)."""
    if error.errno == errno.ELOOP:
        return "a symbolic link (sitegen does not follow links in a store)"
    return error.strerror or str(error)


def file_identity(st: os.stat_result) -> tuple[int, ...]:
    """(inode, size, mtime_ns, ctime_ns) of a stat result: see :meth:`LocalBackend.identity`."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class LocalBackend:
    """A store in a local directory. Temp files start with ``.tmp-`` and are never read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        self._prefix = "" if self._root == "." else self._root.rstrip("/") + "/"  # as Path joins

    def _path(self, key: str) -> Path:
        return Path(self._os_path(key))

    def _os_path(self, key: str) -> str:
        """The file of ``key`` as a plain string: a build looks up ~75,000 keys at 10k."""
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"unsafe store key {key!r}")
        return self._prefix + key if key else self._root

    def read(self, key: str) -> bytes:
        """The file's bytes; a symbolic link is not followed (``OSError``, see
        :func:`unreadable`): a store's files are untrusted input and must not lead the build
        to read, and publish, a file outside the store."""
        fd = os.open(self._os_path(key), _READ_FLAGS)
        with open(fd, "rb") as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return os.path.exists(self._os_path(key))

    def children(self, prefix: str) -> list[str]:
        """Sorted names directly under ``prefix`` (dirs and files), temp files excluded."""
        try:
            names = os.listdir(self._os_path(prefix))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in names if not n.startswith(TEMP_PREFIX))

    def is_dir(self, key: str) -> bool:
        return os.path.isdir(self._os_path(key))

    def put(self, key: str, data: bytes) -> None:
        final = self._path(key)
        tmp = self._write_temp(final, data)
        os.replace(tmp, final)

    def put_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` with ``data`` unless it exists; the content appears whole or not at all."""
        final = self._path(key)
        tmp = self._write_temp(final, data)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return True

    def display(self, key: str) -> str:
        return self._os_path(key)

    def identity(self, key: str) -> tuple[int, ...]:
        """(inode, size, mtime_ns, ctime_ns): which version of a file this is, for parse
        caches. Rewriting a file changes its ctime, which user space cannot set back."""
        return file_identity(os.stat(self._os_path(key)))

    @staticmethod
    def _write_temp(final: Path, data: bytes) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp
