"""A version's file entries, and their packed form for the records memo.

A 10,000-version store of 50 files holds half a million entries; a rebuild needs them only
for the few pages it renders. Memoized versions therefore keep their entries as one packed
blob (:class:`PackedFiles`), unpacked on first use, so loading the memo and redacting
reference URIs cost per version, not per entry.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from typing import Any, NamedTuple

from sitegen.store.packed import Blob, Packed

HIDDEN_URI = "withheld://reference"


class FileEntry(NamedTuple):
    """One file of a version (a named tuple: there are millions in a big store)."""

    path: str
    sha256: str
    size: int
    ref: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Unpickle without calling the Python-level ``__new__`` (memoized manifests)."""
        return (_file_entry, (tuple(self),))


def _file_entry(fields: tuple[Any, ...]) -> FileEntry:
    return tuple.__new__(FileEntry, fields)


WIDTH = len(FileEntry._fields)


def is_file_uri(uri: str) -> bool:
    return uri[:5].lower() == "file:"


def pack(files: Sequence[FileEntry]) -> Blob:
    """The entries as one pickled flat tuple (a packed sequence keeps its blob)."""
    if isinstance(files, PackedFiles) and not files.hides_uris:
        return files.blob
    return pickle.dumps(tuple(chain.from_iterable(files)), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: Blob, hide_uris: bool = False) -> tuple[FileEntry, ...]:
    """Entries from :func:`pack`; ValueError when the blob does not hold whole entries."""
    flat = pickle.loads(blob)
    if not isinstance(flat, tuple) or len(flat) % WIDTH:
        raise ValueError("packed file entries are damaged")
    rows: Iterable[tuple[Any, ...]] = zip(*[iter(flat)] * WIDTH, strict=True)
    if hide_uris:
        rows = ((p, s, n, HIDDEN_URI if r else r) for p, s, n, r in rows)
    return tuple(map(tuple.__new__, repeat(FileEntry), rows))


class PackedFiles(Packed[FileEntry]):
    """File entries unpacked on first use; ``hides_uris`` replaces every reference URI
    by :data:`HIDDEN_URI` (redaction) as they are unpacked."""

    __slots__ = ("blob", "hides_uris")

    def __init__(self, blob: Blob, length: int, hides_uris: bool = False) -> None:
        super().__init__(length)
        self.blob = blob
        self.hides_uris = hides_uris

    def hiding_uris(self) -> PackedFiles:
        return PackedFiles(self.blob, len(self), True)

    def _unpack(self) -> tuple[FileEntry, ...]:
        return unpack(self.blob, self.hides_uris)


def hide_uris(files: Sequence[FileEntry]) -> Sequence[FileEntry]:
    """The entries with every reference URI replaced by :data:`HIDDEN_URI`."""
    if isinstance(files, PackedFiles):
        return files.hiding_uris()
    make = tuple.__new__  # FileEntry's own __new__ is Python code: 480,000 calls at 10k
    return tuple([make(FileEntry, (f[0], f[1], f[2], HIDDEN_URI)) if f[3] else f for f in files])
