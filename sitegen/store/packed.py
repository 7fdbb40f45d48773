"""A sequence kept packed (pickled) in the records memo and unpacked on first use.

:class:`~sitegen.store.files.PackedFiles` and :class:`~sitegen.store.rows.PackedRows`
differ only in how they unpack; a page that renders unpacks, everything else reads the
facts stored beside the blob. Blobs are pickled out of band (``pickle.PickleBuffer``), so
that a memo segment keeps them apart and a load maps them without copying.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")

Blob = bytes | memoryview  # a memoryview: left in the memory map of a memo segment


def blob_for_pickle(blob: Blob, protocol: int) -> pickle.PickleBuffer | bytes:
    """Out of band where the protocol allows it (5, which the memo uses), else plain bytes."""
    return pickle.PickleBuffer(blob) if protocol >= 5 else bytes(blob)


class Packed(Sequence[T]):
    """Behaves as the tuple it stands for: compared, hashed and shown by its items."""

    __slots__ = ("_items", "_length")

    def __init__(self, length: int, items: tuple[T, ...] | None = None) -> None:
        self._length = length
        self._items = items

    def _unpack(self) -> tuple[T, ...]:
        raise NotImplementedError

    @property
    def unpacked(self) -> bool:
        return self._items is not None

    def items(self) -> tuple[T, ...]:
        if self._items is None:
            self._items = self._unpack()
        return self._items

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self.items()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Packed):
            return self.items() == other.items()
        return isinstance(other, tuple) and self.items() == other

    def __hash__(self) -> int:
        return hash(self.items())  # unhashable when its items are (rows are dicts)

    def __repr__(self) -> str:
        return repr(self.items())
