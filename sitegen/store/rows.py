"""A run's metric history in packed form, for the records memo.

2,000 runs of 200 steps are 400,000 row dicts; a rebuild needs the rows only for the run
and comparison pages it renders. A memoized history is kept as one pickled blob with the
facts redaction needs (its keys, whether any value is nested) and unpacked on first use.
"""

from __future__ import annotations

import math
import pickle
from array import array
from collections.abc import Mapping, Sequence
from typing import Any, SupportsIndex

from sitegen.charts import finite_number, numeric_type
from sitegen.store.packed import Blob, Packed, blob_for_pickle

Row = Mapping[str, Any]
_FLOAT, _NONE = {float}, type(None)


def valid_row(row: object) -> bool:
    """A history row as validation keeps it: a mapping with an integer ``_step``."""
    return isinstance(row, dict) and type(row.get("_step")) is int


def row_shape(rows: Sequence[Row]) -> tuple[frozenset[str], bool]:
    """Every key of the rows, and whether any value is itself a mapping (rows that are not
    mappings are left to validation, which reports them)."""
    if isinstance(rows, PackedRows):
        return rows.keys, rows.nested
    rows = [row for row in rows if isinstance(row, Mapping)]  # the rest fail validation
    keys = frozenset().union(*rows)
    kinds = {type(value) for row in rows for value in row.values()}  # a few, not 800,000
    return keys, any(issubclass(kind, Mapping) for kind in kinds)


class Curves:
    """Every numeric metric's ``(step, value)`` points (:func:`~sitegen.charts.series`), as
    two arrays of machine numbers: what run and comparison pages draw, without unpacking
    the rows (a render worker would otherwise unpickle and scan every run's history)."""

    __slots__ = ("blob", "counts", "names")

    def __init__(self, names: tuple[str, ...], counts: tuple[int, ...], blob: Blob) -> None:
        self.names = names
        self.counts = counts
        self.blob = blob

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Curves | None:
        """None unless every row is one that validation keeps (a mapping with an integer
        ``_step`` that fits 64 bits): the pages of other histories read the rows kept.

        The same points as :func:`~sitegen.charts.series` for each name of
        :func:`~sitegen.charts.history_metrics`, read a column at a time (a history's rows
        mostly hold the same few keys: one pass per key, not one per key and row)."""
        if not all(map(valid_row, rows)):
            return None
        names, steps, values, counts = [], array("q"), array("d"), []
        row_steps = [row["_step"] for row in rows]
        for name in sorted(frozenset().union(*rows)):
            column: list[Any] = [row.get(name) for row in rows]
            kinds = set(map(type, column))
            if name.startswith("_") or not any(map(numeric_type, kinds)):
                continue
            kept_steps = row_steps
            if _NONE in kinds:  # a metric logged at some steps only
                kept_steps = [s for s, v in zip(row_steps, column, strict=True) if v is not None]
                column = [v for v in column if v is not None]
                kinds.discard(_NONE)
            if kinds == _FLOAT and all(map(math.isfinite, column)):  # nearly every metric
                kept_values = column
            else:
                kept = [(s, v) for s, v in zip(kept_steps, column, strict=True) if finite_number(v)]
                kept_steps, kept_values = [s for s, _ in kept], [float(v) for _, v in kept]
            try:
                steps.extend(kept_steps)
            except OverflowError:
                return None
            values.extend(kept_values)
            names.append(name)
            counts.append(len(kept_values))
        return cls(tuple(names), tuple(counts), steps.tobytes() + values.tobytes())

    def series(self, name: str) -> list[tuple[int, float]]:
        index = self.names.index(name)
        start, count, total = sum(self.counts[:index]), self.counts[index], sum(self.counts)
        steps, values = array("q"), array("d")
        steps.frombytes(self.blob[8 * start : 8 * (start + count)])
        values.frombytes(self.blob[8 * (total + start) : 8 * (total + start + count)])
        return list(zip(steps.tolist(), values.tolist(), strict=True))


class PackedRows(Packed[Row]):
    """History rows unpickled on first use; ``keys`` and ``nested`` as :func:`row_shape`,
    and ``curves`` (None when the rows do not all pass validation)."""

    __slots__ = ("_blob", "curves", "keys", "nested")

    def __init__(
        self,
        blob: Blob | None,
        length: int,
        keys: frozenset[str],
        nested: bool,
        rows: tuple[Row, ...] | None = None,
        curves: Curves | None = None,
    ) -> None:
        super().__init__(length, rows)
        self._blob = blob
        self.keys = keys
        self.nested = nested
        self.curves = curves

    @classmethod
    def of(cls, rows: Sequence[Row]) -> PackedRows:
        """Rows just parsed: packed only when pickled (a cold build's memory peak is not
        raised by a second copy of every history); their curves made now, while parsing
        (on both cores in a cold build), so that this build's pages draw from them too."""
        return cls(None, len(rows), *row_shape(rows), rows=tuple(rows), curves=Curves.of(rows))

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        blob, curves = self._blob, self.curves
        if blob is None:
            blob = pickle.dumps(self.items(), protocol=pickle.HIGHEST_PROTOCOL)
        packed_curves = None
        if curves is not None:
            packed_curves = (
                curves.names,
                curves.counts,
                blob_for_pickle(curves.blob, int(protocol)),
            )
        return (
            _unpickle,
            (
                blob_for_pickle(blob, int(protocol)),
                len(self),
                self.keys,
                self.nested,
                packed_curves,
            ),
        )

    def _unpack(self) -> tuple[Row, ...]:
        rows = pickle.loads(self._blob or b"")
        if not isinstance(rows, tuple) or len(rows) != len(self):
            raise ValueError("packed history rows are damaged")
        return rows


def _unpickle(
    blob: Blob,
    length: int,
    keys: frozenset[str],
    nested: bool,
    curves: tuple[tuple[str, ...], tuple[int, ...], Blob] | None,
) -> PackedRows:
    return PackedRows(blob, length, keys, nested, curves=Curves(*curves) if curves else None)
