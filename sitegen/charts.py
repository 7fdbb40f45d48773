"""Vega-Lite specs built in Python (pure), plus downsampling that keeps a curve's shape."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeGuard

from sitegen.rawjson import json_string, script_escape

MAX_POINTS = 1000
POINT_MARKS_UP_TO = 200


def downsample(
    points: Sequence[tuple[int, float]], limit: int = MAX_POINTS
) -> list[tuple[int, float]]:
    """At most ``limit`` points: per bucket keep the min and the max (spikes survive)."""
    if len(points) <= limit:
        return list(points)
    buckets = limit // 2
    size = len(points) / buckets
    out: list[tuple[int, float]] = []
    for b in range(buckets):
        chunk = points[int(b * size) : int((b + 1) * size)]
        if not chunk:
            continue
        low = min(chunk, key=lambda p: p[1])
        high = max(chunk, key=lambda p: p[1])
        out.extend(sorted({low, high}))
    return out


class HasSeries(Protocol):
    def series(self, metric: str) -> list[tuple[int, float]]: ...


class EncodedSeries:
    """A curve as charts draw it, and its steps and values as JSON arrays."""

    __slots__ = ("_pairs_json", "points", "steps_json", "values_json")

    def __init__(self, points: list[tuple[int, float]]) -> None:
        self.points = points
        self.steps_json = json.dumps([s for s, _ in points], separators=(",", ":"))
        self.values_json = json.dumps([v for _, v in points], separators=(",", ":"))
        self._pairs_json: str | None = None

    @property
    def pairs_json(self) -> str:
        """``[[step, value], …]``, the form of the version data scripts, from the numbers
        already written (JSON numbers hold no comma; formatting floats is the costly part)."""
        if self._pairs_json is None:
            steps, values = self.steps_json[1:-1].split(","), self.values_json[1:-1].split(",")
            pairs = ",".join(f"[{s},{v}]" for s, v in zip(steps, values, strict=True))
            self._pairs_json = f"[{pairs}]" if self.points else "[]"
        return self._pairs_json

    def columns_json(self, **fields: str) -> str:
        """:func:`columns` of the points, as compact JSON with sorted keys (the way
        ``rawjson.dumps`` writes it), from the arrays already written."""
        parts = {key: json.dumps(value, ensure_ascii=False) for key, value in fields.items()}
        parts.update(step=self.steps_json, value=self.values_json)
        return "{" + ",".join(f"{json.dumps(key)}:{parts[key]}" for key in sorted(parts)) + "}"

    def version_columns(self, label: str) -> tuple[str, str]:
        """``columns_json(version=label)`` (its keys in sorted order), and the same escaped
        for a ``<script>`` element (``script_escape``); only the label can hold characters to
        escape, and most labels hold none, which leaves both the same string."""
        head = f'{{"step":{self.steps_json},"value":{self.values_json},"version":'
        name = json_string(label)
        text = f"{head}{name}}}"
        escaped = script_escape(name)
        return text, text if escaped is name else f"{head}{escaped}}}"


_ENCODED: dict[tuple[int, str, int], tuple[HasSeries, EncodedSeries]] = {}
_ENCODED_KEPT = 8192


def encoded_series(run: HasSeries, metric: str, limit: int = MAX_POINTS) -> EncodedSeries:
    """``downsample(run.series(metric), limit)``, encoded once per process for each run
    object (a run's curve is on its page and on the comparison pages of its versions'
    neighbours; runs are not hashed by value). Limits that keep every point share it."""
    full = run.series(metric)
    key = (id(run), metric, limit if len(full) > limit else 0)
    hit = _ENCODED.get(key)
    if hit is not None and hit[0] is run:
        return hit[1]
    encoded = EncodedSeries(downsample(full, limit))
    if len(_ENCODED) >= _ENCODED_KEPT:
        _ENCODED.clear()
    _ENCODED[key] = (run, encoded)
    return encoded


def series(history: Sequence[Mapping[str, Any]], metric: str) -> list[tuple[int, float]]:
    pts = []
    for row in history:
        value = row.get(metric)
        if finite_number(value):
            pts.append((int(row["_step"]), float(value)))
    return pts


def finite_number(value: Any) -> TypeGuard[int | float]:
    """A real number that a float holds finite (not a boolean, not an integer past 1e308);
    exact float first, since nearly all are."""
    if type(value) is float:
        return math.isfinite(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float: no point to draw
        return False


def numeric_type(kind: type) -> bool:
    """A metric's kind of value: a number, not a boolean (finite or not)."""
    return kind is float or kind is int or (issubclass(kind, int | float) and kind is not bool)


def history_metrics(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of the numeric metrics in a history; rows mostly repeat the same keys."""
    names: set[str] = set()
    for row in history:
        for key, value in row.items():
            if key not in names and not key.startswith("_") and numeric_type(type(value)):
                names.add(key)
    return sorted(names)


def columns(points: Sequence[tuple[int, float]], **fields: str) -> dict[str, Any]:
    """One data row holding the steps and values as parallel arrays (see :func:`FLATTEN`).

    Three times smaller than a row per point, which matters with thousands of steps inline.
    """
    return {**fields, "step": [s for s, _ in points], "value": [v for _, v in points]}


FLATTEN = [{"flatten": ["step", "value"]}]  # parallel arrays -> one row per point


def line_spec(
    metric: str,
    points: Sequence[tuple[int, float]],
    title: str = "",
    x_title: str = "step",
    values: Any = None,
) -> dict[str, Any]:
    """A line chart of ``metric`` over steps (or version numbers), points marked when few;
    ``values``: the data already encoded (a ``RawJSON`` of ``[columns(points)]``)."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": title or metric,
        "width": "container",
        "height": 220,
        "data": {"values": [columns(points)] if values is None else values},
        "transform": FLATTEN,
        "mark": {"type": "line", "point": len(points) <= POINT_MARKS_UP_TO, "tooltip": True},
        "encoding": {
            "x": {
                "field": "step",
                "type": "quantitative",
                "title": x_title,
                "axis": {"tickMinStep": 1},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": metric,
                "scale": {"zero": False},
            },
        },
    }
