"""A run's metric history in packed form, for the records memo.

2,000 runs of 200 steps are 400,000 row dicts; a rebuild needs the rows only for the run
and comparison pages it renders. A memoized history is kept as one pickled blob with the
facts redaction needs (its keys, whether any value is nested) and unpacked on first use.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from typing import Any, SupportsIndex

from sitegen.store.packed import Blob, Packed, blob_for_pickle

Row = Mapping[str, Any]


def row_shape(rows: Sequence[Row]) -> tuple[frozenset[str], bool]:
    """Every key of the rows, and whether any value is itself a mapping (rows that are not
    mappings are left to validation, which reports them)."""
    if isinstance(rows, PackedRows):
        return rows.keys, rows.nested
    rows = [row for row in rows if isinstance(row, Mapping)]  # the rest fail validation
    keys = frozenset(key for row in rows for key in row)
    kinds = {type(value) for row in rows for value in row.values()}  # a few, not 800,000
    return keys, any(issubclass(kind, Mapping) for kind in kinds)


class PackedRows(Packed[Row]):
    """History rows unpickled on first use; ``keys`` and ``nested`` as :func:`row_shape`."""

    __slots__ = ("_blob", "keys", "nested")

    def __init__(
        self,
        blob: Blob | None,
        length: int,
        keys: frozenset[str],
        nested: bool,
        rows: tuple[Row, ...] | None = None,
    ) -> None:
        super().__init__(length, rows)
        self._blob = blob
        self.keys = keys
        self.nested = nested

    @classmethod
    def of(cls, rows: Sequence[Row]) -> PackedRows:
        """Rows just parsed: packed only when pickled (a cold build's memory peak is not
        raised by a second copy of every history)."""
        return cls(None, len(rows), *row_shape(rows), rows=tuple(rows))

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        blob = self._blob
        if blob is None:
            blob = pickle.dumps(self.items(), protocol=pickle.HIGHEST_PROTOCOL)
        return (
            PackedRows,
            (blob_for_pickle(blob, int(protocol)), len(self), self.keys, self.nested),
        )

    def _unpack(self) -> tuple[Row, ...]:
        rows = pickle.loads(self._blob or b"")
        if not isinstance(rows, tuple) or len(rows) != len(self):
            raise ValueError("packed history rows are damaged")
        return rows
