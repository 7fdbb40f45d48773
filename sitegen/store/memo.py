"""Parse once: checked manifests, parsed histories, the checked event log and the sha256 of
stored objects of a local store, kept between builds.

Manifests are immutable and finished histories never change, yet loading 10,000 manifests
of 50 files means parsing and checking half a million entries. The memo keeps each file's
result under ``(kind, key, identity)`` where identity is ``(inode, size, mtime_ns,
ctime_ns)``: a file replaced or rewritten gets a new identity (ctime cannot be set back
from user space), so a stale entry is never served, only left unused.

Entries are pickled in segments under ``$SITEGEN_RECORDS_CACHE``, else
``$XDG_CACHE_HOME/sitegen/records`` (``~/.cache/…``), one folder per store: a build writes
one small segment with what it parsed; when segments pile up it merges the small ones (the
big ones a first build wrote stay as written), and it rewrites a single compact segment
when a quarter of what it read was stale or when a segment was unreadable; only the 8
stores built most recently are kept. The cache is only an optimisation: unreadable
segments are ignored, writes are atomic, ``SITEGEN_RECORDS_CACHE=off`` switches it off,
and ``sitegen verify`` never uses it.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import shutil
import struct
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from sitegen.cachedir import path_key, user_cache

CACHE_ENV = "SITEGEN_RECORDS_CACHE"
MAX_SEGMENTS = 8
MAX_STORES = 8
FORMAT = 9  # bump when cached values (or how segments hold them) change shape
BATCH = 64  # entries per pickle: one load per entry cost a quarter of the memo's load time
BATCH_HEADER = struct.Struct("<QI")  # the batch's pickle length, its count of blobs
BLOB_LENGTH = struct.Struct("<Q")

MemoKey = tuple[str, str, tuple[int, ...]]


def cache_dir(store_root: Path, schema: str = "") -> Path | None:
    """One folder per store and record schema (so a changed record class starts afresh)."""
    base = user_cache(CACHE_ENV, "records")
    return base / f"{path_key(store_root)}-f{FORMAT}{schema}" if base else None


class Memo(MutableMapping[MemoKey, Any]):
    """A dict of parse results that remembers which entries were used and which are new."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._entries: dict[MemoKey, Any] = {}
        self._segments = _segments_oldest_first(folder)
        self._keys: dict[Path, list[MemoKey]] = {}  # what each segment held
        self._read = 0  # entries read, counting those a later segment replaced
        self._damaged = False
        for segment in self._segments:
            try:
                found = _read_segment(segment)
            except Exception:  # a damaged segment only costs a re-parse, and is compacted away
                self._damaged = True
                continue
            self._read += len(found)
            self._keys[segment] = list(found)
            self._entries.update(found)
        self._used: set[MemoKey] = set()
        self._new: dict[MemoKey, Any] = {}
        self._detached = 0  # new entries handed to detach_new's writer

    def __getitem__(self, key: MemoKey) -> Any:
        value = self._entries[key]
        self._used.add(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __setitem__(self, key: MemoKey, value: Any) -> None:
        self._entries[key] = value
        self._new[key] = value
        self._used.add(key)

    @property
    def new_count(self) -> int:
        """How many entries this build has added (what :meth:`save` will write)."""
        return len(self._new)

    def detach_new(self) -> Callable[[], Path | None]:
        """What this build has added so far, as the work of writing it as a segment of its
        own (for a helper: see :func:`sitegen.build.parsed_saved_apart`); :meth:`save` then
        writes only what is added after."""
        detached, self._new = self._new, {}
        self._detached += len(detached)
        if self.folder is None or not detached:
            return lambda: None
        return partial(write_segment, self.folder, detached)

    def __delitem__(self, key: MemoKey) -> None:
        del self._entries[key]

    def __iter__(self) -> Iterator[MemoKey]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def save(self) -> None:
        """Write what this build parsed; compact to what it used when segments pile up, when a
        segment was unreadable, or when a quarter of what was read went unused (files replaced,
        so their entries are stale: every later build would read them for nothing)."""
        if self.folder is None:
            return
        stale = self._read - (len(self._used) - len(self._new) - self._detached)
        compact = self._damaged or (stale > 0 and stale * 4 >= len(self._used))
        if self._new or compact:
            self._write_segment(self.folder, compact)
        prune_stores(self.folder)

    def _write_segment(self, folder: Path, compact: bool) -> None:
        """One new segment; it replaces them all when compacting, and the small ones when
        there are too many (the big one, written once, is never rewritten for that)."""
        replaced: list[Path] = []
        entries = self._new
        if compact:
            entries, replaced = {k: self._entries[k] for k in self._used}, self._segments
        elif len(self._segments) + 1 > MAX_SEGMENTS:
            replaced = self._small_segments()
            kept = (k for old in replaced for k in self._keys[old] if k in self._entries)
            entries = {**{k: self._entries[k] for k in kept}, **self._new}
        if write_segment(folder, entries) is not None:
            for old in replaced:
                old.unlink(missing_ok=True)

    def adopt(self, segment: Path) -> None:
        """Take in a segment that a helper of this build wrote (see :mod:`sitegen.store.prewarm`):
        its entries count as parsed and used by this build, and are not written again."""
        found = _read_segment(segment)
        self._segments.append(segment)
        self._keys[segment] = list(found)
        self._read += len(found)
        self._entries.update(found)
        self._used.update(found)

    def _small_segments(self) -> list[Path]:
        """All but the two largest segments: a first build writes one or two big ones (the
        second from its parsing helper, see :mod:`sitegen.store.prewarm`)."""
        kept = sorted(self._keys, key=lambda segment: len(self._keys[segment]))[-2:]
        return [segment for segment in self._segments if segment not in kept]


def write_segment(folder: Path, entries: dict[MemoKey, Any]) -> Path | None:
    """A new segment holding ``entries`` (written aside, then renamed), or None if it could
    not be written."""
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        name = f"seg-{os.getpid()}-{uuid.uuid4().hex[:12]}.pickle"
        temp = folder / f".{name}"
        items = list(entries.items())
        with open(temp, "wb") as handle:  # in batches: small pickler memos, fewer loads
            for start in range(0, len(items), BATCH):
                _write_batch(handle, items[start : start + BATCH])
        os.replace(temp, folder / name)
        return folder / name
    return None


def _write_batch(handle: BinaryIO, batch: list[tuple[MemoKey, Any]]) -> None:
    """A header, the pickle, then the blobs it holds out of band (``pickle.PickleBuffer``:
    packed files and history rows), which a load maps instead of copying."""
    blobs: list[pickle.PickleBuffer] = []
    data = pickle.dumps(batch, protocol=5, buffer_callback=blobs.append)
    raw = [blob.raw() for blob in blobs]
    handle.write(BATCH_HEADER.pack(len(data), len(raw)))
    handle.writelines(BLOB_LENGTH.pack(r.nbytes) for r in raw)
    handle.write(data)
    handle.writelines(raw)


def prune_stores(keep: Path, most: int = MAX_STORES) -> None:
    """Forget the stores built least recently, beyond ``most`` (a big store's memo is ~100 MB)."""
    with contextlib.suppress(OSError):
        os.utime(keep)
        folders = sorted(
            (p for p in keep.parent.iterdir() if p.is_dir()),
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        for stale in folders[most:]:
            shutil.rmtree(stale, ignore_errors=True)


def _segments_oldest_first(folder: Path | None) -> list[Path]:
    """Read in the order written, so that a newer entry under the same key wins."""
    if folder is None or not folder.is_dir():
        return []
    dated = []
    for path in folder.glob("seg-*.pickle"):
        with contextlib.suppress(OSError):
            dated.append((path.stat().st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(dated)]


def _read_segment(path: Path) -> dict[MemoKey, Any]:
    """The entries of a segment, its blobs left in the file's memory map: a rebuild unpacks
    the few it renders (a segment is never rewritten in place, only replaced or removed,
    which leaves a map valid)."""
    entries: dict[MemoKey, Any] = {}
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return entries
        view = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    at = 0
    while at < len(view):
        size, count = BATCH_HEADER.unpack_from(view, at)
        at += BATCH_HEADER.size
        lengths = [BLOB_LENGTH.unpack_from(view, at + 8 * i)[0] for i in range(count)]
        at += BLOB_LENGTH.size * count
        blobs, end = [], at + size
        for length in lengths:
            blobs.append(view[end : end + length])
            end += length
        if end > len(view):
            raise ValueError(f"{path}: truncated segment")
        entries.update(pickle.loads(view[at : at + size], buffers=blobs))
        at = end
    return entries
