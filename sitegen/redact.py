"""Privacy by default: withhold configured keys and reference URIs before anything renders.

Pure: ``redact(records, config)`` returns records in which every value under a key that
matches ``redact.keys`` is replaced by :data:`WITHHELD` (metadata, config, summaries,
metric histories), and reference URIs are hidden unless ``redact.show_reference_uris``.
Everything downstream (pages, JSON, search, lineage, comparisons) only ever sees these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sitegen.config import SiteConfig
from sitegen.store.files import hide_uris
from sitegen.store.records import Records, VersionRecord
from sitegen.store.rows import row_shape
from sitegen.store.run_records import RunRecord

WITHHELD = "[withheld]"


def _scrub(value: Any, config: SiteConfig, prefix: str, withheld: set[str], where: str) -> Any:
    if not isinstance(value, Mapping) or not config.redact_keys:
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        dotted = f"{prefix}{key}"
        if config.withholds(dotted):
            withheld.add(f"{where}: {dotted}")
            out[key] = WITHHELD
        else:
            out[key] = _scrub(item, config, f"{dotted}.", withheld, where)
    return out


def _version(v: VersionRecord, config: SiteConfig, withheld: set[str]) -> VersionRecord:
    files = v.files
    if not config.show_reference_uris and v.has_references:
        files = hide_uris(files)
        withheld.add(f"{v.collection}: reference URIs")
    metadata = _scrub(v.metadata, config, "", withheld, f"{v.collection} metadata")
    if files is v.files and metadata is v.metadata:
        return v
    # A copy of the frozen record with two fields replaced (it has no __post_init__), and
    # the derived values hiding URIs leaves as they were, so that nothing is unpacked.
    redacted = object.__new__(VersionRecord)
    derived = {"total_size": v.total_size, "has_references": v.has_references}
    vars(redacted).update(vars(v), metadata=metadata, files=files, **derived)
    vars(redacted).pop("with_bytes", None)  # listed with the URIs it was computed from
    return redacted


def _history(
    rows: Sequence[Mapping[str, Any]], config: SiteConfig, withheld: set[str]
) -> Sequence[Mapping[str, Any]]:
    """Rows are flat and share their keys, so most histories are checked key by key once
    (a memoized history knows its keys without being unpacked)."""
    keys, nested = row_shape(rows)
    if not nested and not any(config.withholds(key) for key in keys):
        return rows
    return tuple(_scrub(row, config, "", withheld, "metric history") for row in rows)


def _run(r: RunRecord, config: SiteConfig, withheld: set[str]) -> RunRecord:
    run_config = _scrub(r.config, config, "", withheld, "run config")
    summary = _scrub(r.summary, config, "", withheld, "run summary")
    if run_config is r.config and summary is r.summary:
        return r
    return dataclasses.replace(r, config=run_config, summary=summary)


def redact(records: Records, config: SiteConfig) -> tuple[Records, tuple[str, ...]]:
    """Records with withheld values replaced, and the sorted names of what was withheld."""
    withheld: set[str] = set()
    if not config.redact_keys and config.show_reference_uris:
        return records, ()
    versions = tuple(_version(v, config, withheld) for v in records.versions)
    runs = tuple(_run(r, config, withheld) for r in records.runs)
    histories = (
        records.histories
        if not config.redact_keys
        else {rid: _history(rows, config, withheld) for rid, rows in records.histories.items()}
    )
    return dataclasses.replace(records, versions=versions, runs=runs, histories=histories), tuple(
        sorted(withheld)
    )
