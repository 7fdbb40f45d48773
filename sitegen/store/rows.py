"""A run's metric history in packed form, for the records memo.

2,000 runs of 200 steps are 400,000 row dicts; a rebuild needs the rows only for the run
and comparison pages it renders. A memoized history is kept as one pickled blob with the
facts redaction needs (its keys, whether any value is nested) and unpacked on first use.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

Row = Mapping[str, Any]


def row_shape(rows: Sequence[Row]) -> tuple[frozenset[str], bool]:
    """Every key of the rows, and whether any value is itself a mapping."""
    if isinstance(rows, PackedRows):
        return rows.keys, rows.nested
    keys = frozenset(key for row in rows for key in row)
    return keys, any(isinstance(value, Mapping) for row in rows for value in row.values())


class PackedRows(Sequence[Row]):
    """History rows unpickled on first use; ``keys`` and ``nested`` as :func:`row_shape`."""

    __slots__ = ("_blob", "_length", "_rows", "keys", "nested")

    def __init__(
        self,
        blob: bytes | None,
        length: int,
        keys: frozenset[str],
        nested: bool,
        rows: tuple[Row, ...] | None = None,
    ) -> None:
        self._blob = blob
        self._length = length
        self.keys = keys
        self.nested = nested
        self._rows = rows

    @classmethod
    def of(cls, rows: Sequence[Row]) -> PackedRows:
        """Rows just parsed: packed only when pickled (a cold build's memory peak is not
        raised by a second copy of every history)."""
        return cls(None, len(rows), *row_shape(rows), rows=tuple(rows))

    def __reduce__(self) -> tuple[Any, ...]:
        blob = self._blob
        if blob is None:
            blob = pickle.dumps(self._rows, protocol=pickle.HIGHEST_PROTOCOL)
        return (PackedRows, (blob, self._length, self.keys, self.nested))

    def rows(self) -> tuple[Row, ...]:
        if self._rows is None:
            rows = pickle.loads(self._blob or b"")
            if not isinstance(rows, tuple) or len(rows) != self._length:
                raise ValueError("packed history rows are damaged")
            self._rows = rows
        return self._rows

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Row, ...]: ...

    def __getitem__(self, index: int | slice) -> Row | tuple[Row, ...]:
        return self.rows()[index]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedRows):
            return self.rows() == other.rows()
        return isinstance(other, tuple) and self.rows() == other

    def __hash__(self) -> int:
        return hash(self.rows())  # like the tuple it stands for (of dicts: unhashable)

    def __repr__(self) -> str:
        return repr(self.rows())
