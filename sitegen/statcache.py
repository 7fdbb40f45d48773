"""Which pages of the previous site are intact, known without re-reading them.

An incremental build reuses a page only if its file still holds the bytes the last build
wrote (a page edited in place must be rendered again, never re-sealed). Re-hashing every
page costs seconds on a big site, so the last build also records each file's identity,
``(inode, size, mtime_ns, ctime_ns)``, next to its sha256; a file whose identity is
unchanged is taken as intact, like ``git status`` does. Anything else is re-hashed. The
ctime cannot be set back from user space: an edit that keeps the size and restores the
mtime (``touch -r``) still changes the identity.

The record lives outside the site (the site stays byte-for-byte reproducible), under
``$SITEGEN_BUILD_CACHE``, else ``$XDG_CACHE_HOME/sitegen/builds`` (``~/.cache/…``), one file
per output directory. ``SITEGEN_BUILD_CACHE=off`` switches it off; deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path

from sitegen.cachedir import path_key, user_cache

CACHE_ENV = "SITEGEN_BUILD_CACHE"

Identity = tuple[int, int, int, int]


FORMAT = ("sitegen-statcache", 4)  # url -> ((inode, size, mtime_ns, ctime_ns), sha256)


def cache_file(out: Path) -> Path | None:
    base = user_cache(CACHE_ENV, "builds")
    return base / f"{path_key(out)}.pickle" if base else None


def identity(path: str | Path) -> Identity | None:
    """The identity of the regular file at ``path``; None for anything else (a link put in
    place of a page is not that page, whatever it points to)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return identity_of(st) if stat.S_ISREG(st.st_mode) else None


def identity_of(st: os.stat_result) -> Identity:
    """What a page's file is recognised by: its inode, size, modification and change times
    (moving a file changes the last: a page moved into place is identified there)."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def load(out: Path) -> dict[str, tuple[Identity, str]]:
    """URL -> (identity, sha256) as recorded by the last build into ``out``; {} when unknown.

    Pickled like the records memo, under the user's own cache folder: at 40,000 pages JSON
    took a tenth of a second each way.
    """
    path = cache_file(out)
    try:
        with open(path or "", "rb") as handle:
            kind, data = pickle.load(handle)
        return data if kind == FORMAT and isinstance(data, dict) else {}
    except Exception:  # missing, damaged or foreign: only makes this build slower
        return {}


def save(out: Path, entries: Mapping[str, tuple[Identity | None, str]]) -> None:
    """Best effort: a cache that cannot be written only makes the next build slower."""
    path = cache_file(out)
    if path is None:
        return
    data = {url: entry for url, entry in entries.items() if entry[0] is not None}
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(pickle.dumps((FORMAT, data), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temp, path)
        path.with_suffix(".json").unlink(missing_ok=True)  # the JSON an earlier build wrote
    with contextlib.suppress(OSError):
        temp.unlink(missing_ok=True)


def intact(path: str | Path, sha256: str, recorded: tuple[Identity, str] | None) -> Identity | None:
    """The file's identity when it holds bytes hashing to ``sha256``, else None."""
    current = identity(path)
    if current is None:
        return None
    if recorded is not None and recorded == (current, sha256):
        return current
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return current if hashlib.sha256(data).hexdigest() == sha256 else None
