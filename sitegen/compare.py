"""Comparing versions: summary, metrics, config, metadata, files, contents, curves.

Pure functions from model objects to one JSON-able comparison (``format`` 1), the same
data that the comparison pages show and that ``sitegen compare --format json`` prints.
The first version is the baseline unless ``baseline`` says otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, NamedTuple, overload

from sitegen.charts import FLATTEN, EncodedSeries, columns, encoded_series, finite_number
from sitegen.config import SiteConfig
from sitegen.contentdiff import diff_contents, display_value, flatten_values
from sitegen.model import Project, Run, Version
from sitegen.rawjson import RawJSON
from sitegen.store.files import FileEntry

ReadObject = Callable[[str], bytes | None]


def recent_objects(read: ReadObject, keep: int = 32, largest: int = 1 << 20) -> ReadObject:
    """``read`` remembering the last ``keep`` objects it read of at most ``largest`` bytes:
    consecutive comparisons share one version (v4..v5 then v5..v6), so half of the files
    they diff were just read. Larger ones (``compare.max_diff_bytes`` may allow them) are
    read again when asked for again."""
    kept: OrderedDict[str, bytes] = OrderedDict()

    def read_recent(sha256: str) -> bytes | None:
        data = kept.get(sha256)
        if data is not None:
            kept.move_to_end(sha256)
            return data
        data = read(sha256)
        if data is not None and len(data) <= largest:
            kept[sha256] = data
            if len(kept) > keep:
                kept.popitem(last=False)
        return data

    return read_recent


MAX_CURVE_POINTS = 200
CURVE_TABLE_ROWS = 30


def number(value: Any) -> float | None:
    """A metric value as a float: None for what is not a number or no finite float."""
    return float(value) if finite_number(value) else None


def version_facts(project: Project, v: Version) -> dict[str, Any]:
    return {
        "ref": v.ref,
        "collection": v.record.collection,
        "version": v.record.version,
        "label": f"{v.record.collection}:{v.label}",
        "digest": v.record.digest,
        "created_at": v.record.created_at,
        "run": v.producer,
        "size": v.size,
        "files": len(v.record.files),
        "aliases": list(v.aliases),
    }


def metric_rows(
    summaries: Sequence[Mapping[str, Any] | None], base: int, config: SiteConfig
) -> list[dict[str, Any]]:
    names = sorted({k for s in summaries if s for k, val in s.items() if number(val) is not None})
    rows = []
    for name in names:
        values = [number(s.get(name)) if s else None for s in summaries]
        direction = config.direction(name)
        present = [v for v in values if v is not None]
        target = (max(present) if direction == "higher" else min(present)) if present else None
        base_value = values[base]
        deltas: list[dict[str, Any] | None] = []
        for value in values:
            if value is None or base_value is None:
                deltas.append(None)
                continue
            pct = (value - base_value) / abs(base_value) * 100 if base_value else None
            deltas.append(
                {
                    "abs": round(value - base_value, 12),
                    "pct": round(pct, 6) if pct is not None else None,
                    "better": _better(value, base_value, direction),
                }
            )
        rows.append(
            {
                "name": name,
                "direction": direction,
                "values": values,
                "deltas": deltas,
                "best": [
                    i
                    for i, v in enumerate(values)
                    if v is not None and v == target and len(present) > 1
                ],
                "differs": len(set(present)) > 1 or len(present) != len(values),
            }
        )
    return rows


def _better(value: float, base: float, direction: str) -> str:
    if value == base:
        return "same"
    return "better" if (value > base) == (direction == "higher") else "worse"


def keyed_rows(maps: Sequence[Mapping[str, Any] | None], base: int) -> list[dict[str, Any]]:
    """Flattened key rows with one cell per version: base/same/changed/added/removed/missing."""
    flat = [flatten_values(m) if m else {} for m in maps]
    rows = []
    for key in sorted(set().union(*flat)):
        cells, base_has = [], key in flat[base]
        for i, f in enumerate(flat):
            has = key in f
            if i == base:
                state = "base" if has else "missing"
            elif has and not base_has:
                state = "added"
            elif base_has and not has:
                state = "removed"
            elif not has:
                state = "missing"
            else:
                state = "same" if f[key] == flat[base][key] else "changed"
            cells.append({"value": display_value(f[key]) if has else None, "state": state})
        rows.append(
            {
                "key": key,
                "cells": cells,
                "differs": any(c["state"] in ("changed", "added", "removed") for c in cells),
            }
        )
    return rows


def file_changes(old: Sequence[FileEntry], new: Sequence[FileEntry]) -> dict[str, Any]:
    """Added, removed, modified (same path), renamed (same digest, new path), unchanged."""
    a, b = {f.path: f for f in old}, {f.path: f for f in new}
    gone = {p: f for p, f in a.items() if p not in b}
    came = {p: f for p, f in b.items() if p not in a}
    renamed = []
    by_digest: dict[str, list[str]] = {}
    for path, f in sorted(gone.items()):
        by_digest.setdefault(f.sha256, []).append(path)
    for path, f in sorted(came.items()):
        if by_digest.get(f.sha256):
            source = by_digest[f.sha256].pop(0)
            renamed.append({"from": source, "to": path, "size": f.size, "sha256": f.sha256})
    moved_from = {r["from"] for r in renamed}
    moved_to = {r["to"] for r in renamed}
    modified = [
        {
            "path": p,
            "old_size": a[p].size,
            "new_size": b[p].size,
            "delta": b[p].size - a[p].size,
            "old_sha256": a[p].sha256,
            "new_sha256": b[p].sha256,
            "ref": b[p].ref or a[p].ref,
        }
        for p in sorted(set(a) & set(b))
        if a[p].sha256 != b[p].sha256
    ]
    return {
        "added": [
            {"path": p, "size": f.size, "sha256": f.sha256, "ref": f.ref}
            for p, f in sorted(came.items())
            if p not in moved_to
        ],
        "removed": [
            {"path": p, "size": f.size, "sha256": f.sha256, "ref": f.ref}
            for p, f in sorted(gone.items())
            if p not in moved_from
        ],
        "modified": modified,
        "renamed": renamed,
        "unchanged": sorted(p for p in set(a) & set(b) if a[p].sha256 == b[p].sha256),
        "size_delta": sum(f.size for f in new) - sum(f.size for f in old),
    }


def content_diffs(
    changes: Mapping[str, Any], read: ReadObject | None, limit: int, allowed: Callable[[str], bool]
) -> list[dict[str, Any]]:
    out = []
    for item in changes["modified"]:
        path = item["path"]
        if not allowed(path):
            out.append(
                {
                    "path": path,
                    "kind": "withheld",
                    "reason": "dataset contents are not shown unless publish_files allows them (privacy)",
                }
            )
        elif item["ref"]:
            out.append(
                {
                    "path": path,
                    "kind": "reference",
                    "reason": "external reference: bytes are not in the store; compared by digest",
                }
            )
        elif max(item["old_size"], item["new_size"]) > limit:
            out.append(
                {
                    "path": path,
                    "kind": "too-large",
                    "reason": f"larger than the diff limit ({limit} bytes; compare.max_diff_bytes)",
                }
            )
        else:
            old = read(item["old_sha256"]) if read else None
            new = read(item["new_sha256"]) if read else None
            if old is None or new is None:
                out.append(
                    {
                        "path": path,
                        "kind": "unavailable",
                        "reason": "file bytes are not available in the store",
                    }
                )
            else:
                out.append(diff_contents(path, old, new))
    return out


class CurveLine(NamedTuple):
    """One run's curve of one metric as comparisons draw it (at most MAX_CURVE_POINTS
    points, encoded), and the sample of at most CURVE_TABLE_ROWS points that the table for
    no-JS readers shows."""

    series: EncodedSeries
    sample: tuple[tuple[int, float], ...]


def curve_line(run: Run, metric: str) -> CurveLine:
    series = encoded_series(run, metric, MAX_CURVE_POINTS)
    stride = max(1, -(-len(series.points) // CURVE_TABLE_ROWS))
    return CurveLine(series, tuple(series.points[::stride]))


def curve_lines(
    project: Project, versions: Sequence[Version]
) -> list[tuple[str, list[tuple[str, CurveLine]]]]:
    """(metric, [(version label, line), …]) for each metric that two or more of the
    versions' producing runs logged, by metric name."""
    runs = []
    single = len({x.record.collection for x in versions}) == 1
    for v in versions:
        run = project.run(v.producer) if v.producer else None
        if run is not None and run.history:
            runs.append((v.label if single else v.ref, run))
    shared: dict[str, int] = {}
    for _, run in runs:
        for key in run.metric_names:
            shared[key] = shared.get(key, 0) + 1
    out = []
    for metric in sorted(k for k, n in shared.items() if n >= 2):
        lines = [(label, curve_line(run, metric)) for label, run in runs]
        if any(line.series.points for _, line in lines):
            out.append((metric, lines))
    return out


def curves(
    project: Project, versions: Sequence[Version], encoded: bool = False
) -> list[dict[str, Any]]:
    """Training curves of the producing runs, overlaid: one chart per metric 2+ runs share.

    Plain lists (what ``sitegen compare`` prints), or ``encoded`` for pages: each spec's
    data one pre-encoded fragment (spliced in by ``tojson_script``), each table a
    :class:`CurveTable` of the lines' samples."""
    out = []
    for metric, lines in curve_lines(project, versions):
        table = CurveTable(lines)
        values: list[dict[str, Any]] | RawJSON = (
            _data_json(lines)
            if encoded
            else [
                columns(line.series.points, version=label)
                for label, line in lines
                if line.series.points
            ]
        )
        out.append(
            {
                "metric": metric,
                "points": sum(len(line.series.points) for _, line in lines),
                "spec": overlay_spec(metric, values),
                "table": table if encoded else list(table),
            }
        )
    return out


def _data_json(lines: list[tuple[str, CurveLine]]) -> RawJSON:
    """``rawjson.dumps([columns(points, version=label), …])``, from each line's arrays; and
    its script text, escaping only the labels."""
    pairs = [line.series.version_columns(label) for label, line in lines if line.series.points]
    text = "[" + ",".join(plain for plain, _ in pairs) + "]"
    if all(plain is escaped for plain, escaped in pairs):
        return RawJSON(text, text)
    return RawJSON(text, "[" + ",".join(escaped for _, escaped in pairs) + "]")


class CurveTable(Sequence[dict[str, Any]]):
    """A sample of each version's curve (at most CURVE_TABLE_ROWS points) for no-JS readers,
    as ``{version, step, value}`` rows; kept as each line's sample until a template asks for
    rows (``h.curve_rows`` renders the samples directly)."""

    def __init__(self, lines: list[tuple[str, CurveLine]]) -> None:
        self.samples = [(label, line.sample) for label, line in lines]
        self._length = sum(len(sample) for _, sample in self.samples)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        return self._rows[index]

    @cached_property
    def _rows(self) -> list[dict[str, Any]]:
        return [
            {"step": s, "value": v, "version": label}
            for label, sample in self.samples
            for s, v in sample
        ]


def overlay_spec(metric: str, values: list[dict[str, Any]] | RawJSON) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": metric,
        "width": "container",
        "height": 220,
        "data": {"values": values},
        "transform": FLATTEN,
        "mark": {"type": "line", "tooltip": True},
        "encoding": {
            "x": {"field": "step", "type": "quantitative"},
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": metric,
                "scale": {"zero": False},
            },
            "color": {"field": "version", "type": "nominal", "title": "version"},
        },
    }


def notes_for(project: Project, versions: Sequence[Version]) -> list[str]:
    notes = []
    if len({v.record.collection for v in versions}) > 1:
        notes.append("These versions belong to different collections; differences are expected.")
    notes.extend(
        f"{v.ref} has no producing run: its metrics and config are missing."
        for v in versions
        if v.producer is None
    )
    return notes


def compare(
    project: Project,
    versions: Sequence[Version],
    config: SiteConfig,
    baseline: int = 0,
    read: ReadObject | None = None,
    with_contents: bool = True,
    encoded: bool = False,
) -> dict[str, Any]:
    """The comparison; ``encoded`` curves are for pages (see :func:`curves`)."""
    runs = [project.run(v.producer) if v.producer else None for v in versions]
    summaries = [dict(r.record.summary) if r else None for r in runs]
    result: dict[str, Any] = {
        "format": 1,
        "baseline": baseline,
        "versions": [version_facts(project, v) for v in versions],
        "notes": notes_for(project, versions),
        "metrics": metric_rows(summaries, baseline, config),
        "config": keyed_rows([dict(r.record.config) if r else None for r in runs], baseline),
        "metadata": keyed_rows([dict(v.record.metadata) for v in versions], baseline),
        "files": [
            {"against": i, **file_changes(versions[baseline].record.files, v.record.files)}
            for i, v in enumerate(versions)
            if i != baseline
        ],
        "curves": curves(project, versions, encoded),
    }
    if len({v.record.collection for v in versions}) == 1:
        for facts, v in zip(result["versions"], versions, strict=True):
            facts["label"] = v.label
    if with_contents and len(versions) == 2:
        rec = versions[1].record
        result["contents"] = content_diffs(
            result["files"][0],
            read,
            config.diff_max_bytes,
            lambda path: config.may_diff(rec.type, rec.name, path),
        )
    return result
