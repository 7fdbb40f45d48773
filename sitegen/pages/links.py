"""Small, reusable context fragments: links to runs and versions, metric cells."""

from __future__ import annotations

from typing import Any

from sitegen.config import MetricSpec
from sitegen.model import Collection, Project, Run, Version
from sitegen.pages.common import (
    collection_url,
    duration,
    duration_seconds,
    number_or_none,
    rel,
    run_url,
    version_url,
)


def run_link(url: str, project: Project, run_id: str | None) -> dict[str, Any] | None:
    if run_id is None:
        return None
    run = project.run(run_id)
    if run is None:
        return None
    r = run.record
    return {
        "id": r.id,
        "name": r.name,
        "href": rel(url, run_url(r.id)),
        "job_type": r.job_type,
        "status": r.status,
    }


def version_link(url: str, coll: str, number: int) -> dict[str, Any]:
    return {"label": f"v{number}", "href": rel(url, version_url(coll, number))}


def alias_links(url: str, collection: Collection) -> list[dict[str, Any]]:
    return [
        {"alias": alias, **version_link(url, collection.ref, number)}
        for alias, number in sorted(collection.aliases.items())
    ]


def metric_cells(
    metrics: tuple[MetricSpec, ...], summary: dict[str, Any] | None
) -> list[dict[str, Any]]:
    values = summary or {}
    return [{"name": m.name, "value": number_or_none(values.get(m.name))} for m in metrics]


def metric_columns(metrics: tuple[MetricSpec, ...]) -> list[dict[str, Any]]:
    return [{"name": m.name, "direction": m.direction} for m in metrics]


def run_row(url: str, project: Project, run: Run) -> dict[str, Any]:
    r = run.record
    return {
        "id": r.id,
        "name": r.name,
        "href": rel(url, run_url(r.id)),
        "job_type": r.job_type,
        "status": r.status,
        "started": r.started_at,
        "duration": duration(r.started_at, r.finished_at),
        "duration_seconds": duration_seconds(r.started_at, r.finished_at),
        "metrics": metric_cells(project.metrics, dict(r.summary)),
    }


def producer_summary(project: Project, version: Version) -> dict[str, Any] | None:
    run = project.run(version.producer) if version.producer else None
    return dict(run.record.summary) if run else None


def compare_prev(url: str, collection: Collection, index: int) -> dict[str, Any] | None:
    """The adjacent-pair comparison page of ``versions[index-1]..versions[index]``."""
    if index == 0:
        return None
    a, b = collection.versions[index - 1], collection.versions[index]
    label = f"{a.label}..{b.label}"
    return {"label": label, "href": rel(url, f"artifacts/{collection.ref}/compare/{label}.html")}


def collection_link(url: str, collection: Collection) -> str:
    return rel(url, collection_url(collection.ref))
