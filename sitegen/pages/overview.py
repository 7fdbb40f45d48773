"""The overview (``index.html``), the runs list and the 404 page."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from sitegen.markdown import plain_snippet
from sitegen.model import Collection, Project
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    collection_url,
    human_size,
    rel,
    run_url,
    version_url,
)
from sitegen.pages.links import alias_links, metric_columns, run_link, run_row, version_link

RECENT_VERSIONS = 20
RECENT_RUNS = 50


def collection_row(url: str, collection: Collection) -> dict[str, Any]:
    latest = collection.versions[-1]
    info = collection.info
    return {
        "name": collection.name,
        "ref": collection.ref,
        "href": rel(url, collection_url(collection.ref)),
        "version_count": len(collection.versions),
        "latest": version_link(url, collection.ref, latest.record.version),
        "aliases": alias_links(url, collection),
        "updated": latest.record.created_at,
        "description_text": plain_snippet(info.description if info else latest.record.description),
    }


def facts(project: Project) -> list[dict[str, Any]]:
    versions = [v for c in project.collections for v in c.versions]
    return [
        {"label": "Project", "value": project.name},
        {"label": "Collections", "value": len(project.collections)},
        {"label": "Versions", "value": len(versions)},
        {"label": "Runs", "value": len(project.runs)},
        {"label": "Files", "value": sum(len(v.record.files) for v in versions)},
        {"label": "Total size", "value": human_size(sum(v.size for v in versions))},
        {"label": "Events", "value": len(project.events)},
        {"label": "Log head", "value": (project.log_head or "")[:16]},
    ]


def integrity_fact(ok: bool | None) -> list[dict[str, Any]]:
    if ok is None:
        return []
    return [
        {
            "label": "Integrity",
            "value": "verified at build" if ok else "PROBLEMS — see the audit page",
        }
    ]


def recent_versions(url: str, project: Project) -> list[dict[str, Any]]:
    versions = [v for c in project.collections for v in c.versions]
    versions.sort(key=lambda v: (v.record.created_at, v.ref), reverse=True)
    return [
        {
            "ref": v.ref,
            "href": rel(url, version_url(v.record.collection, v.record.version)),
            "created": v.record.created_at,
            "collection": v.record.collection,
            "collection_href": rel(url, collection_url(v.record.collection)),
            "producer": run_link(url, project, v.producer),
        }
        for v in versions[:RECENT_VERSIONS]
    ]


def overview_page(site: SiteInfo, project: Project, integrity_ok: bool | None) -> Page:
    url = "index.html"
    ctx = base_context(site, url, "index", site.title, [])
    types = [
        {"type": t, "collections": [collection_row(url, c) for c in group]}
        for t, group in groupby(project.collections, key=lambda c: c.type)
    ]
    board = [
        {
            "collection": c.ref,
            "collection_href": rel(url, collection_url(c.ref)),
            "alias": a["alias"],
            "label": a["label"],
            "href": a["href"],
        }
        for c in project.collections
        for a in alias_links(url, c)
    ]
    ctx["overview"] = {
        "description_html": site.description_html,
        "facts": [*facts(project), *integrity_fact(integrity_ok)],
        "types": types,
        "alias_board": board,
        "recent_versions": recent_versions(url, project),
        "runs": [run_row(url, project, r) for r in project.runs[:RECENT_RUNS]],
        "metric_columns": metric_columns(project.metrics),
        "runs_total": len(project.runs),
        "runs_href": rel(url, "runs/index.html"),
        "problems": [str(p) for p in project.problems if p.severity == "warning"][:50],
    }
    return Page(url, "index.html", ctx)


def runs_page(site: SiteInfo, project: Project) -> Page:
    url = "runs/index.html"
    ctx = base_context(site, url, "runs", "Runs", [("Overview", "index.html")])
    ctx["runs"] = [run_row(url, project, r) for r in project.runs]
    ctx["metric_columns"] = metric_columns(project.metrics)
    return Page(url, "runs.html", ctx)


def not_found_page(site: SiteInfo) -> Page:
    """GitHub Pages serves 404.html at any missing URL, so with a base URL links are absolute."""
    ctx = base_context(site, "404.html", "404", "Not found", [("Overview", "index.html")])
    if site.base_url:
        base = site.base_url
        ctx["page"] = {
            **ctx["page"],
            "root": base,
            "breadcrumbs": [{"label": "Overview", "href": base + "index.html"}],
        }
        ctx["nav"] = {key: base + href for key, href in ctx["nav"].items()}
    return Page("404.html", "404.html", ctx)


def search_entries(project: Project) -> list[dict[str, str]]:
    entries = []
    for c in project.collections:
        entries.append(
            {
                "k": "collection",
                "t": c.ref,
                "u": collection_url(c.ref),
                "d": f"{len(c.versions)} versions",
            }
        )
        for v in c.versions:
            entries.append(
                {
                    "k": "version",
                    "t": v.ref,
                    "u": version_url(c.ref, v.record.version),
                    "d": " ".join(v.aliases),
                }
            )
    for r in project.runs:
        entries.append(
            {
                "k": "run",
                "t": r.record.name,
                "u": run_url(r.id),
                "d": f"{r.record.job_type} {r.id} {r.record.status}",
            }
        )
    return entries
