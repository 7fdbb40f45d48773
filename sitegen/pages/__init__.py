"""The plan stage: the whole site map as a list of :class:`Page` objects (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sitegen.compare import ReadObject
from sitegen.config import SiteConfig
from sitegen.errors import Problem, SitegenError
from sitegen.lineage import Graph, build_graph, run_id, version_id
from sitegen.model import Collection, Project
from sitegen.pages.audit import audit_page
from sitegen.pages.collection import (
    collection_page,
    published_file_url,
    version_body,
    version_data,
    version_page,
)
from sitegen.pages.common import Page, SiteInfo, run_url, version_url
from sitegen.pages.compare import any_page, pair_page, version_script
from sitegen.pages.lineage import lineage_pages, node_details, panel
from sitegen.pages.overview import not_found_page, overview_page, runs_page, search_entries
from sitegen.pages.run import run_page
from sitegen.verify import VerifyReport

__all__ = ["Page", "SiteInfo", "plan_site", "published_files"]


def plan_site(
    site: SiteInfo,
    project: Project,
    config: SiteConfig,
    read: ReadObject | None = None,
    audit: tuple[VerifyReport, Mapping[str, Any]] | None = None,
) -> list[Page]:
    """Every page of the site, sorted by URL; duplicate URLs are an error.

    ``read`` fetches object bytes by sha256 for content diffs (None when unavailable).
    """
    pages = [
        overview_page(site, project, audit[0].ok if audit else None),
        runs_page(site, project),
        not_found_page(site),
    ]
    if audit is not None:
        pages.append(audit_page(site, project, *audit))
    known = {v.ref for c in project.collections for v in c.versions}
    graph, details = build_graph(project), node_details(project)
    pages.extend(lineage_pages(site, graph, details))
    for collection in project.collections:
        pages.extend(collection_pages(site, project, collection, config, read, (graph, details)))
    for run in project.runs:
        url = run_url(run.id)
        pages.append(
            run_page(site, project, run, config, known, panel(details, graph, url, run_id(run.id)))
        )
    pages.append(search_index(project))
    return check_unique(pages)


def collection_pages(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    config: SiteConfig,
    read: ReadObject | None,
    lineage: tuple[Graph, dict[str, Any]],
) -> list[Page]:
    pages = [collection_page(site, project, collection)]
    if len(collection.versions) > 1:
        pages.append(any_page(site, project, collection, config))
    for index in range(len(collection.versions)):
        body = version_body(project, collection, index)
        v = collection.versions[index]
        url = version_url(collection.ref, v.record.version)
        neighbourhood = panel(lineage[1], lineage[0], url, version_id(v.ref))
        pages.append(version_page(site, project, collection, index, config, neighbourhood))
        pages.append(version_data(collection, index, body))
        pages.append(version_script(project, collection, index, body))
        if index:
            pages.append(pair_page(site, project, collection, index, config, read))
    return pages


def search_index(project: Project) -> Page:
    """A script (not JSON) so that search also works from file://, where fetch() is blocked."""
    payload = json.dumps(
        search_entries(project), ensure_ascii=True, sort_keys=True, separators=(",", ":")
    )
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e")
    return Page("data/search.js", None, {}, f"window.SITEGEN_SEARCH = {payload};\n".encode())


def published_files(project: Project, config: SiteConfig) -> dict[str, str]:
    """Site URL -> object sha256 for file bytes copied into the site (``publish_files``)."""
    out = {}
    for c in project.collections:
        for v in c.versions:
            for f in v.record.files:
                if f.ref is None and config.may_publish(c.type, c.name, f.path, f.size):
                    out[published_file_url(f.sha256)] = f.sha256
    return dict(sorted(out.items()))


def check_unique(pages: list[Page]) -> list[Page]:
    seen: set[str] = set()
    problems = []
    for page in pages:
        if page.url in seen:
            problems.append(Problem(page.url, None, "two pages would be written to the same URL"))
        seen.add(page.url)
    if problems:
        raise SitegenError(problems)
    return sorted(pages, key=lambda p: p.url)
