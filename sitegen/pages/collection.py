"""Collection pages and version pages, plus the per-version JSON the browser loads."""

from __future__ import annotations

from typing import Any

from sitegen.assets import GRAPH_ASSETS
from sitegen.charts import line_spec
from sitegen.config import SiteConfig
from sitegen.markdown import render_markdown
from sitegen.model import Collection, Project, Version
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    chart_scripts,
    collection_url,
    flatten,
    rel,
    version_data_url,
    version_url,
)
from sitegen.pages.links import (
    alias_links,
    compare_prev,
    metric_cells,
    metric_columns,
    producer_summary,
    run_link,
    version_link,
)

MAX_FILES_LISTED = 2000
TREND_WIDTH = 560


def version_row(url: str, project: Project, collection: Collection, index: int) -> dict[str, Any]:
    v = collection.versions[index]
    r = v.record
    return {
        "label": v.label,
        "number": r.version,
        "href": rel(url, version_url(collection.ref, r.version)),
        "aliases": list(v.aliases),
        "created": r.created_at,
        "size": v.size,
        "files": len(r.files),
        "digest": r.digest,
        "digest_short": r.digest[:12],
        "producer": run_link(url, project, v.producer),
        "metrics": metric_cells(project.metrics, producer_summary(project, v)),
        "compare_prev": compare_prev(url, collection, index),
    }


def trend(project: Project, collection: Collection) -> dict[str, Any] | None:
    """One small chart per key metric across the versions that have it."""
    rows = []
    for v in collection.versions:
        summary = producer_summary(project, v) or {}
        for cell in metric_cells(project.metrics, summary):
            if cell["value"] is not None:
                rows.append(
                    {
                        "label": v.label,
                        "number": v.record.version,
                        "metric": cell["name"],
                        "value": cell["value"],
                    }
                )
    if len({r["number"] for r in rows}) < 2:
        return None
    charts = []
    for m in project.metrics:
        points = [(r["number"], r["value"]) for r in rows if r["metric"] == m.name]
        if points:
            spec = line_spec(
                m.name, points, f"{m.name} ({m.direction} is better)", x_title="version"
            )
            charts.append({**spec, "width": TREND_WIDTH, "height": 140})
    combined = {
        "$schema": charts[0]["$schema"],
        "vconcat": [{k: v for k, v in c.items() if k != "$schema"} for c in charts],
    }
    return {"id": "trend-chart", "spec_json": combined, "rows": rows}


def alias_history(url: str, collection: Collection) -> list[dict[str, Any]]:
    out = []
    for change in collection.alias_history:
        link = (
            version_link(url, collection.ref, change.version)
            if change.version is not None
            else None
        )
        out.append(
            {
                "time": change.time,
                "alias": change.alias,
                "action": change.action,
                "label": link["label"] if link else None,
                "href": link["href"] if link else None,
                "actor": change.actor,
            }
        )
    return out


def collection_description(collection: Collection) -> str:
    """The markdown a collection page shows: its ``collection.yaml`` description, else its
    latest version's."""
    info = collection.info
    return info.description if info else collection.versions[-1].record.description


def collection_page(site: SiteInfo, project: Project, collection: Collection) -> Page:
    url = collection_url(collection.ref)
    info = collection.info
    ctx = base_context(
        site, url, "collection", collection.ref, [("Overview", "index.html")], chart_scripts()
    )
    ctx["collection"] = {
        "type": collection.type,
        "name": collection.name,
        "ref": collection.ref,
        "description_html": render_markdown(collection_description(collection)),
        "tags": list(info.tags) if info else [],
        "version_count": len(collection.versions),
        "aliases": alias_links(url, collection),
        "compare_href": None,
    }
    ctx["versions"] = [
        version_row(url, project, collection, i) for i in reversed(range(len(collection.versions)))
    ]
    ctx["metric_columns"] = metric_columns(project.metrics)
    ctx["trend"] = trend(project, collection)
    ctx["alias_history"] = alias_history(url, collection)
    return Page(url, "collection.html", ctx)


def file_rows(url: str, version: Version, config: SiteConfig) -> list[dict[str, Any]]:
    rows = []
    for f in version.record.files[:MAX_FILES_LISTED]:
        r = version.record
        published = f.ref is None and config.may_publish(r.type, r.name, f.path, f.size)
        rows.append(
            {
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "ref_uri": f.ref,
                "download_href": rel(url, published_file_url(f.sha256)) if published else None,
            }
        )
    return rows


def published_file_url(sha256: str) -> str:
    return f"files/sha256/{sha256[:2]}/{sha256[2:]}"


def version_page(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    index: int,
    config: SiteConfig,
    lineage: dict[str, Any],
) -> Page:
    v = collection.versions[index]
    r = v.record
    url = version_url(collection.ref, r.version)
    crumbs = [("Overview", "index.html"), (collection.ref, collection_url(collection.ref))]
    ctx = base_context(site, url, "version", r.ref, crumbs, GRAPH_ASSETS)
    ctx["lineage"] = lineage
    ctx["version"] = {
        "ref": r.ref,
        "label": v.label,
        "type": r.type,
        "name": r.name,
        "number": r.version,
        "digest": r.digest,
        "manifest_sha256": r.manifest_sha256,
        "created": r.created_at,
        "description_html": render_markdown(r.description),
        "aliases": list(v.aliases),
        "size": v.size,
        "file_count": len(r.files),
        "collection_href": rel(url, collection_url(collection.ref)),
        "data_href": rel(url, version_data_url(collection.ref, r.version)),
    }
    ctx["metadata"] = flatten(r.metadata)
    ctx["files"] = file_rows(url, v, config)
    ctx["files_total"], ctx["files_truncated"] = len(r.files), len(r.files) > MAX_FILES_LISTED
    ctx["producer"] = run_link(url, project, v.producer)
    ctx["consumers"] = [link for c in v.consumers if (link := run_link(url, project, c))]
    neighbours = collection.versions
    ctx["previous"] = (
        version_link(url, collection.ref, neighbours[index - 1].record.version) if index else None
    )
    ctx["next"] = (
        version_link(url, collection.ref, neighbours[index + 1].record.version)
        if index + 1 < len(neighbours)
        else None
    )
    ctx["compare_prev"] = compare_prev(url, collection, index)
    return Page(url, "version.html", ctx)


def version_body(project: Project, collection: Collection, index: int) -> dict[str, Any]:
    """Per-version data for client-side pages and tools (documented in docs/site.md)."""
    v = collection.versions[index]
    r = v.record
    run = project.run(v.producer) if v.producer else None
    return {
        "format": 1,
        "ref": r.ref,
        "collection": r.collection,
        "type": r.type,
        "name": r.name,
        "version": r.version,
        "digest": r.digest,
        "created_at": r.created_at,
        "aliases": list(v.aliases),
        "size": v.size,
        "description": r.description,
        "metadata": r.metadata,
        "run": v.producer,
        "files": {
            f.path: {"sha256": f.sha256, "size": f.size, **({"ref": f.ref} if f.ref else {})}
            for f in r.files
        },
        "summary": dict(run.record.summary) if run else None,
        "config": dict(run.record.config) if run else None,
    }
